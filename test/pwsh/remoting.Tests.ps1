# PowerShell remoting over SSH to localhost, the fleet pattern of README "Many servers": a private sshd
# (Debian's openssh-server) on a free loopback port with a pwsh subsystem and one key, started here and
# stopped after. Invoke-Command -HostName runs dist/portqry-ts on the "remote" side; JSON comes back as
# text and becomes objects on the caller.
BeforeDiscovery {
    $NoSshd = -not (Test-Path -LiteralPath '/usr/sbin/sshd')
}
BeforeAll {
    $Root = (Resolve-Path "$PSScriptRoot/../..").Path
    $Exe = Join-Path $Root 'dist/portqry-ts'
    $Dir = Join-Path ([System.IO.Path]::GetTempPath()) ("portqry-ts-sshd-" + [guid]::NewGuid())
    New-Item -ItemType Directory -Path $Dir | Out-Null
    & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $Dir 'host_key') | Out-Null
    & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $Dir 'user_key') | Out-Null
    Copy-Item (Join-Path $Dir 'user_key.pub') (Join-Path $Dir 'authorized_keys')
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start(); $SshPort = $probe.LocalEndpoint.Port; $probe.Stop()
    # The pwsh command itself (the dotnet tool's launcher), not this process's path (the dotnet host).
    $pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source
    @(
        "ListenAddress 127.0.0.1"
        "Port $SshPort"
        "HostKey $Dir/host_key"
        "AuthorizedKeysFile $Dir/authorized_keys"
        "PidFile $Dir/sshd.pid"
        "PasswordAuthentication no"
        "KbdInteractiveAuthentication no"
        "PubkeyAuthentication yes"
        "PermitRootLogin prohibit-password"
        "AllowUsers $([Environment]::UserName)"
        "StrictModes no"
        "UsePAM no"
        "Subsystem powershell $pwsh -sshs -NoLogo -NoProfile"
    ) | Set-Content -LiteralPath (Join-Path $Dir 'sshd_config')
    # sshd refuses to start when its run directory is missing (it is made by the service unit normally).
    $MadeRunDir = -not (Test-Path -LiteralPath '/run/sshd')
    New-Item -ItemType Directory -Force -Path '/run/sshd' | Out-Null
    $Sshd = Start-Process -FilePath '/usr/sbin/sshd' -ArgumentList '-D', '-f', (Join-Path $Dir 'sshd_config'), '-E', (Join-Path $Dir 'sshd.log') -PassThru
    $deadline = (Get-Date).AddSeconds(10)
    do {
        Start-Sleep -Milliseconds 100
        $client = [System.Net.Sockets.TcpClient]::new()
        $up = try { $client.Connect('127.0.0.1', $SshPort); $true } catch { $false } finally { $client.Dispose() }
    } until ($up -or (Get-Date) -gt $deadline)
    $Remote = @{
        HostName    = '127.0.0.1'
        Port        = $SshPort
        UserName    = [Environment]::UserName
        KeyFilePath = (Join-Path $Dir 'user_key')
        Options     = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
    }
    $Listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $Listener.Start()
    $Port = $Listener.LocalEndpoint.Port
}
AfterAll {
    if ($Listener) { $Listener.Stop() }
    if ($Sshd -and -not $Sshd.HasExited) { Stop-Process -Id $Sshd.Id -Force }
    if ($Dir) { Remove-Item -LiteralPath $Dir -Recurse -Force -ErrorAction SilentlyContinue }
    if ($MadeRunDir) { Remove-Item -LiteralPath '/run/sshd' -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Invoke-Command -HostName over SSH' -Skip:$NoSshd {
    It 'returns the remote run''s JSON as objects tagged with PSComputerName, exit code and no stray stderr' {
        $out = Invoke-Command @Remote -ScriptBlock {
            param($exe, $port)
            $lines = & $exe query -n 127.0.0.1 -e $port --json 2>&1
            [pscustomobject]@{ Lines = @($lines | ForEach-Object { "$_" }); ExitCode = $LASTEXITCODE; Errors = @($lines | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }).Count }
        } -ArgumentList $Exe, $Port -ErrorAction Stop
        $out.PSComputerName | Should -Be '127.0.0.1'
        $out.ExitCode | Should -Be 0
        $out.Errors | Should -Be 0
        $records = @($out.Lines | ConvertFrom-Json)
        $records.Count | Should -Be 1
        $records[0].State | Should -Be 'LISTENING'
        $records[0].RemotePort | Should -Be $Port
    }
    It 'the fan-out pattern: strings stream back and convert on the caller, keeping PSComputerName' {
        $results = Invoke-Command @Remote -ScriptBlock { param($exe, $port) & $exe query -n 127.0.0.1 -o "$port,1" --json } -ArgumentList $Exe, $Port |
            ForEach-Object { $_ | ConvertFrom-Json | Add-Member -PassThru -NotePropertyName PSComputerName -NotePropertyValue $_.PSComputerName }
        @($results).Count | Should -Be 2
        ($results | Select-Object -ExpandProperty PSComputerName -Unique) | Should -Be '127.0.0.1'
        ($results | Select-Object -ExpandProperty State) | Should -Be @('LISTENING', 'NOT LISTENING')
    }
    It 'the module works in the remote session' {
        $r = Invoke-Command @Remote -ScriptBlock {
            param($module, $port)
            Import-Module $module
            Invoke-PortQuery 127.0.0.1 -Port $port | ForEach-Object { $_.PSObject.TypeNames[0] + ' ' + $_.State }
        } -ArgumentList (Join-Path $Root 'dist/PortQryTs/PortQryTs.psd1'), $Port
        $r | Should -Be 'PortQryTs.QueryResult LISTENING'
    }
}
