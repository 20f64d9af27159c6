# PowerShell remoting over SSH to localhost, the fleet pattern of README "Many servers": a private sshd
# (Debian's openssh-server) on a free loopback port of 127.0.0.1 and 127.0.0.2 with a pwsh subsystem and
# one key, started here and stopped after. Invoke-Command -HostName runs dist/portqry-ts on the "remote"
# side; JSON comes back as text and becomes objects on the caller. The module's -Session cmdlets are
# tested with two sessions standing in for two servers (127.0.0.1 and 127.0.0.2: different
# PSComputerName, different install folders, the second without portqry-ts until Install-PortQryTs).
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
        "ListenAddress 127.0.0.2"
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

Describe 'the fleet from one console: Install-PortQryTs and the cmdlets'' -Session' -Skip:$NoSshd {
    BeforeAll {
        Import-Module (Join-Path $Root 'dist/PortQryTs/PortQryTs.psd1') -Force
        $RemoteB = $Remote.Clone(); $RemoteB['HostName'] = '127.0.0.2'
        $A = New-PSSession @Remote -ErrorAction Stop
        $B = New-PSSession @RemoteB -ErrorAction Stop
        $DirA = Join-Path $Dir 'server-a/portqry-ts'
        $DirB = Join-Path $Dir 'server b/Program Files/portqry-ts'
        $LocalHash = (Get-FileHash -LiteralPath $Exe -Algorithm SHA256).Hash
        $Logs = Join-Path $Dir 'logs'
        New-Item -ItemType Directory -Path $Logs | Out-Null
        & $Exe record --log-dir $Logs --duration 1s --no-modules
        function Get-LocalHeader($Objects) { (($Objects | Format-Table | Out-String -Width 300).Trim() -split "`n")[0].Trim() }
    }
    AfterAll {
        Get-PSSession | Remove-PSSession -ErrorAction SilentlyContinue
    }
    It 'Install-PortQryTs copies the executable and the module, checks the SHA-256 there and says Installed' {
        $r = Install-PortQryTs -Session $A -Path $DirA -ErrorAction Stop
        $r.PSObject.TypeNames[0] | Should -Be 'PortQryTs.InstallResult'
        $r.ComputerName | Should -Be '127.0.0.1'
        $r.Status | Should -Be 'Installed'
        $r.Path | Should -Be $DirA
        $r.Sha256 | Should -Be $LocalHash
        (Get-FileHash -LiteralPath (Join-Path $DirA 'portqry-ts') -Algorithm SHA256).Hash | Should -Be $LocalHash
        Test-Path -LiteralPath (Join-Path $DirA 'PortQryTs/PortQryTs.psd1') | Should -Be $true
        & (Join-Path $DirA 'portqry-ts') --version | Should -Not -BeNullOrEmpty
        @(Get-ChildItem -LiteralPath $DirA -Filter '*.new') | Should -BeNullOrEmpty
    }
    It 'a machine without portqry-ts is one error record naming it; the other machine still answers' {
        $r = @(Invoke-PortQuery -Session $A, $B -ComputerName 127.0.0.1 -Port $Port -NoReverseLookup -ErrorAction SilentlyContinue -ErrorVariable errs)
        $r.Count | Should -Be 1
        $r[0].PSComputerName | Should -Be '127.0.0.1'
        $r[0].State | Should -Be 'LISTENING'
        $errs.Count | Should -Be 1
        "$($errs[0])" | Should -BeLike '127.0.0.2: portqry-ts is not installed*Install-PortQryTs*'
        $errs[0].TargetObject | Should -Be '127.0.0.2'
    }
    It 'Install-PortQryTs on both: the second gets it into its own folder, the first is skipped (same build)' {
        $r = @(Install-PortQryTs -Session $B -Path $DirB -ErrorAction Stop)
        $r[0].Status | Should -Be 'Installed'
        $r[0].ComputerName | Should -Be '127.0.0.2'
        (Get-FileHash -LiteralPath (Join-Path $DirB 'portqry-ts') -Algorithm SHA256).Hash | Should -Be $LocalHash
        $again = @(Install-PortQryTs -Session $A -Path $DirA -ErrorAction Stop)
        $again[0].Status | Should -Be 'Current'
        # Each session uses the folder it was installed into last.
        (Invoke-Command -Session $A { $global:PortQryTsInstallPath }) | Should -Be $DirA
        (Invoke-Command -Session $B { $global:PortQryTsInstallPath }) | Should -Be $DirB
    }
    It 'Install-PortQryTs: a different build is Updated (old copy replaced, hash checked), -Force copies the same build again' {
        # A small stand-in executable keeps the copies quick (the real one is 100+ MB through PSRP).
        $DirC = Join-Path $Dir 'server-c/portqry-ts'
        $small = Join-Path $Dir 'small-exe'
        Set-Content -LiteralPath $small -Value '#!/bin/sh'
        (Install-PortQryTs -Session $A -Path $DirC -ExecutablePath $small -ErrorAction Stop).Status | Should -Be 'Installed'
        Add-Content -LiteralPath $small -Value 'echo 2'
        (Install-PortQryTs -Session $A -Path $DirC -ExecutablePath $small -ErrorAction Stop).Status | Should -Be 'Updated'
        (Get-FileHash -LiteralPath (Join-Path $DirC 'portqry-ts')).Hash | Should -Be (Get-FileHash -LiteralPath $small).Hash
        (Install-PortQryTs -Session $A -Path $DirC -ExecutablePath $small -ErrorAction Stop).Status | Should -Be 'Current'
        (Install-PortQryTs -Session $A -Path $DirC -ExecutablePath $small -Force -ErrorAction Stop).Status | Should -Be 'Updated'
        @(Get-ChildItem -LiteralPath $DirC | Sort-Object Name).Name | Should -Be @('portqry-ts', 'PortQryTs')
        # Back to the real build's folder for the tests that follow.
        (Install-PortQryTs -Session $A -Path $DirA -ErrorAction Stop).Status | Should -Be 'Current'
    }
    It 'the headline: Test-PortQuery -Session $all -ComputerName <target> -Preset ad runs ON each machine' {
        $r = @(Test-PortQuery -Session $A, $B -ComputerName 127.0.0.1 -Preset ad -NoProbe -NoReverseLookup -TimeoutMs 500 -ErrorAction Stop)
        $r.Count | Should -BeGreaterThan 6
        @($r | Select-Object -ExpandProperty PSComputerName -Unique | Sort-Object) | Should -Be @('127.0.0.1', '127.0.0.2')
        @($r | Where-Object PSComputerName -eq '127.0.0.1').Count | Should -Be @($r | Where-Object PSComputerName -eq '127.0.0.2').Count
        foreach ($o in $r) {
            $o.PSObject.TypeNames[0] | Should -Be 'PortQryTs.QueryResult'
            $o.PSObject.TypeNames | Should -Contain 'Deserialized.PortQryTs.QueryResult'
            $o.TimeUtc | Should -BeOfType [datetime]
            $o.TimeUtc.Kind | Should -Be 'Utc'
        }
        $quiet = @(Test-PortQuery -Session $A, $B -ComputerName 127.0.0.1 -Port $Port -Quiet -ErrorAction Stop)
        $quiet.Count | Should -Be 2
        $quiet | Should -Be @($true, $true)
    }
    It '<Cmdlet> -Session: typed objects from both machines, PSComputerName set, the local view applied' -ForEach @(
        @{ Cmdlet = 'Invoke-PortQuery'; Type = 'PortQryTs.QueryResult' }
        @{ Cmdlet = 'Get-PortOwner'; Type = 'PortQryTs.PortOwner' }
        @{ Cmdlet = 'Import-PortReporterLog'; Type = 'PortQryTs.PortReporterRecord' }
        # Get-PortReporterStatistic -Session merges the machines' partials into one set of statistics
        # (stats --partial/--merge): its own Describe below checks that against a single local run.
    ) {
        $arguments = switch ($Cmdlet) {
            'Invoke-PortQuery' { @{ ComputerName = '127.0.0.1'; Port = $Port, 1; NoReverseLookup = $true } }
            'Get-PortOwner' { @{ LocalPort = $Port; Protocol = 'TCP' } }
            'Import-PortReporterLog' { @{ Path = $Logs; Protocol = 'TCP' } }
            'Get-PortReporterStatistic' { @{ Path = $Logs; Statistic = 'process-usage' } }
        }
        $local = @(& $Cmdlet @arguments -ErrorAction Stop)
        $remote = @(& $Cmdlet @arguments -Session $A, $B -ThrottleLimit 1 -ErrorAction Stop)
        $local.Count | Should -BeGreaterThan 0
        $remote.Count | Should -Be ($local.Count * 2)
        @($remote | Select-Object -ExpandProperty PSComputerName -Unique | Sort-Object) | Should -Be @('127.0.0.1', '127.0.0.2')
        foreach ($o in $remote) {
            $o.PSObject.TypeNames[0] | Should -Be $Type
            $o.PSObject.TypeNames | Should -Contain "Deserialized.$Type"
        }
        # Same property names and types as the local objects (plus what remoting adds).
        $names = @($local[0].PSObject.Properties.Name)
        foreach ($n in $names) {
            $remote[0].PSObject.Properties.Name | Should -Contain $n
            if ($null -ne $local[0].$n -and $local[0].$n -is [datetime]) { $remote[0].$n | Should -BeOfType [datetime]; $remote[0].$n.Kind | Should -Be 'Utc' }
            if ($null -ne $local[0].$n -and ($local[0].$n -is [int] -or $local[0].$n -is [long] -or $local[0].$n -is [string])) { $remote[0].$n.GetType() | Should -Be $local[0].$n.GetType() }
        }
        if ($Cmdlet -eq 'Get-PortOwner') { $remote | ForEach-Object { $_.OwningProcess | Should -Be $PID } }
        # The table view is the same for the objects that came back, plus the machine (as for any remote output).
        if ($Cmdlet -ne 'Get-PortReporterStatistic') { Get-LocalHeader $remote | Should -Be ((Get-LocalHeader $local) + ' PSComputerName') }
    }
    It 'plain Invoke-Command { Get-PortOwner } output uses the views too (Deserialized type names)' {
        $r = @(Invoke-Command -Session $A { param($p) Import-Module (Join-Path $global:PortQryTsInstallPath 'PortQryTs/PortQryTs.psd1'); Get-PortOwner -LocalPort $p -Protocol TCP } -ArgumentList $Port)
        $r[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.PortQryTs.PortOwner'
        Get-LocalHeader $r | Should -Be ((Get-LocalHeader @(Get-PortOwner -LocalPort $Port -Protocol TCP)) + ' PSComputerName')
    }
    It 'a closed session is one error record naming its machine; the others still answer' {
        $C = New-PSSession @Remote -ErrorAction Stop
        Remove-PSSession $C
        $r = @(Invoke-PortQuery -Session $A, $C, $B -ComputerName 127.0.0.1 -Port $Port -NoReverseLookup -ErrorAction SilentlyContinue -ErrorVariable errs)
        $r.Count | Should -Be 2
        $errs.Count | Should -Be 1
        "$($errs[0])" | Should -BeLike '127.0.0.1: the session is Closed*'
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PortQryTs.SessionNotOpen*'
        # Install-PortQryTs goes on with the others as well.
        $i = @(Install-PortQryTs -Session $C, $A -Path $DirA -ErrorAction SilentlyContinue -ErrorVariable ierrs)
        $i.Count | Should -Be 1
        $ierrs.Count | Should -Be 1
    }
    It 'under ConstrainedLanguage at the console: Install-PortQryTs and the -Session cmdlets work' {
        $pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source
        $out = & $pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'clm-remote-child.ps1') -Module (Join-Path $Root 'dist/PortQryTs/PortQryTs.psd1') `
            -HostName 127.0.0.1 -SshPort $SshPort -KeyFile (Join-Path $Dir 'user_key') -InstallPath $DirA -Port $Port 2>&1
        $r = ($out | Select-Object -Last 1) | ConvertFrom-Json
        $r.LanguageMode | Should -Be 'ConstrainedLanguage' -Because ($out -join "`n")
        $r.PSObject.Properties['Error'] | Should -BeNullOrEmpty -Because ($out -join "`n")
        $r.Install | Should -Be 'Current'
        $r.QueryCount | Should -Be 1
        $r.QueryType | Should -Be 'PortQryTs.QueryResult'
        $r.QueryState | Should -Be 'LISTENING'
        $r.QueryComputer | Should -Be '127.0.0.1'
        $r.OwnerType | Should -Be 'PortQryTs.PortOwner'
        $r.ClosedErrors | Should -Be 1
    }
    It 'an error of the executable on one machine comes back as one error record naming it' {
        $r = @(Invoke-PortQuery -Session $A, $B -ComputerName no-such-host.invalid -Port 80 -ErrorAction SilentlyContinue -ErrorVariable errs)
        $r | Should -BeNullOrEmpty
        $errs.Count | Should -Be 2
        @($errs | ForEach-Object { "$_".Split(':')[0] } | Sort-Object) | Should -Be @('127.0.0.1', '127.0.0.2')
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PortQryTs.ExitCode68*'
    }
}

Describe 'Get-PortReporterStatistic -Session with stats --partial/--merge: one set of statistics for the fleet' -Skip:$NoSshd {
    BeforeAll {
        Import-Module (Join-Path $Root 'dist/PortQryTs/PortQryTs.psd1') -Force
        # The executable to use: dist/portqry-ts, or (to try a build that has the options) PORTQRY_TS_TEST_STATS_EXE.
        $StatsExe = if ($env:PORTQRY_TS_TEST_STATS_EXE) { $env:PORTQRY_TS_TEST_STATS_EXE } else { $Exe }
        $HasMerge = @(& $StatsExe complete --new-word -- stats) -contains '--merge'
        $RemoteB = $Remote.Clone(); $RemoteB['HostName'] = '127.0.0.2'
        $A = New-PSSession @Remote -ErrorAction Stop
        $B = New-PSSession @RemoteB -ErrorAction Stop
        $Logs = Join-Path $Dir 'merge-logs'
        New-Item -ItemType Directory -Path $Logs | Out-Null
        & $Exe record --log-dir $Logs --duration 1s --no-modules
    }
    AfterAll {
        Remove-PSSession $A, $B -ErrorAction SilentlyContinue
        Remove-Item Env:PORTQRY_TS_EXE -ErrorAction SilentlyContinue
    }
    It 'the machines'' partials merge into what one run over all their logs gives' {
        if (-not $HasMerge) { Set-ItResult -Skipped -Because 'this portqry-ts has no stats --partial/--merge: -Session returns each machine''s statistics (tested above)'; return }
        Install-PortQryTs -Session $A -Path (Join-Path $Dir 'merge-a') -ExecutablePath $StatsExe -ErrorAction Stop | Out-Null
        Install-PortQryTs -Session $B -Path (Join-Path $Dir 'merge-b') -ExecutablePath $StatsExe -ErrorAction Stop | Out-Null
        $env:PORTQRY_TS_EXE = $StatsExe
        $merged = @(Get-PortReporterStatistic -Session $A, $B $Logs -Statistic process-usage, remote-address -Protocol TCP -ErrorAction Stop)
        $single = @(Get-PortReporterStatistic $Logs, $Logs -Statistic process-usage, remote-address -Protocol TCP -ErrorAction Stop)
        $merged.Count | Should -BeGreaterThan 0
        $merged[0].PSObject.TypeNames[0] | Should -BeLike 'PortQryTs.Statistic.*'
        ($merged | ConvertTo-Json -Depth 5 -Compress) | Should -Be ($single | ConvertTo-Json -Depth 5 -Compress)
        # A machine that fails is one error record; the others' partials still merge.
        Remove-PSSession $B
        $one = @(Get-PortReporterStatistic -Session $A, $B $Logs -Statistic process-usage -ErrorAction SilentlyContinue -ErrorVariable errs)
        $errs.Count | Should -Be 1
        ($one | ConvertTo-Json -Depth 5 -Compress) | Should -Be (@(Get-PortReporterStatistic $Logs -Statistic process-usage) | ConvertTo-Json -Depth 5 -Compress)
    }
}
