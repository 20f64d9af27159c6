# PortQryTs: PowerShell cmdlets over the portqry-ts executable. Each cmdlet runs the executable with
# --format jsonl, converts its output line by line as it arrives (the first object comes out while a
# long scan is still running), and gives every object a PSTypeName so PortQryTs.format.ps1xml can show
# a tidy table. Works on Windows PowerShell 5.1 and PowerShell 7; needs nothing but the executable.
Set-StrictMode -Version 2.0

$script:OnWindows = [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT
$script:ExeName = if ($script:OnWindows) { 'portqry-ts.exe' } else { 'portqry-ts' }

function Get-PortQryTsExecutable {
    <#
    .SYNOPSIS
    The portqry-ts executable the cmdlets run: $env:PORTQRY_TS_EXE, else the one beside the module
    folder (the dist/ layout: dist/PortQryTs + dist/portqry-ts[.exe]), else the one on PATH.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    if ($env:PORTQRY_TS_EXE) { return $env:PORTQRY_TS_EXE }
    foreach ($dir in @((Split-Path -Parent $PSScriptRoot), $PSScriptRoot)) {
        $candidate = Join-Path $dir $script:ExeName
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
    }
    $onPath = Get-Command -Name $script:ExeName -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($onPath) { return $onPath.Path }
    throw "PortQryTs: $($script:ExeName) was not found beside the module, on PATH, or in `$env:PORTQRY_TS_EXE."
}

# Windows command-line quoting (CommandLineToArgvW rules), for .NET Framework, whose ProcessStartInfo
# has no ArgumentList.
function ConvertTo-CommandLineArgument([string]$Value) {
    if ($Value -ne '' -and $Value -notmatch '[\s"]') { return $Value }
    $escaped = [regex]::Replace($Value, '(\\*)"', { param($m) $m.Groups[1].Value * 2 + '\"' })
    $escaped = [regex]::Replace($escaped, '(\\+)$', { param($m) $m.Groups[1].Value * 2 })
    return '"' + $escaped + '"'
}

# sysexits codes of the executable (README "Exit codes") as PowerShell error categories.
$script:ErrorCategories = @{
    64 = 'InvalidArgument'; 65 = 'InvalidData'; 66 = 'ObjectNotFound'; 68 = 'ObjectNotFound'
    69 = 'NotImplemented'; 70 = 'NotSpecified'; 71 = 'OperationStopped'; 73 = 'WriteError'
    74 = 'ReadError'; 77 = 'PermissionDenied'
}

function Invoke-PortQryTsCore {
    <#
    Runs the executable with -Arguments plus --format jsonl and writes one object per output line, as it
    arrives. A Process object is used rather than the & operator: stdout is decoded as UTF-8 whatever the
    console code page, and stderr never becomes NativeCommandError records (which Windows PowerShell 5.1
    turns into terminating errors under $ErrorActionPreference = 'Stop'). Exit codes in -OkExitCodes are
    answers (query's 1 NOT LISTENING, 2 FILTERED); any other non-zero code becomes one error record with
    the executable's message, its exit code in Exception.Data['ExitCode'] and in the ErrorId.
    #>
    param(
        [Parameter(Mandatory)][string[]]$Arguments,
        [Parameter(Mandatory)][System.Management.Automation.PSCmdlet]$Cmdlet,
        [scriptblock]$TypeNameOf,
        [int[]]$OkExitCodes = @(0),
        [object]$TargetObject
    )
    $exe = Get-PortQryTsExecutable
    $all = @($Arguments) + @('--format', 'jsonl')
    $psi = New-Object System.Diagnostics.ProcessStartInfo
    $psi.FileName = $exe
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardInput = $true
    $psi.CreateNoWindow = $true
    $psi.StandardOutputEncoding = New-Object System.Text.UTF8Encoding($false)
    $psi.StandardErrorEncoding = New-Object System.Text.UTF8Encoding($false)
    if ($psi.PSObject.Properties['ArgumentList'] -and $null -ne $psi.ArgumentList) {
        foreach ($a in $all) { $psi.ArgumentList.Add([string]$a) }
    } else {
        $psi.Arguments = ($all | ForEach-Object { ConvertTo-CommandLineArgument ([string]$_) }) -join ' '
    }
    Write-Verbose ("{0} {1}" -f $exe, ($all -join ' '))
    $process = [System.Diagnostics.Process]::Start($psi)
    $finished = $false
    try {
        $process.StandardInput.Close()
        $stderrTask = $process.StandardError.ReadToEndAsync()
        while ($null -ne ($line = $process.StandardOutput.ReadLine())) {
            if ($line -eq '') { continue }
            $record = $line | ConvertFrom-Json
            if ($TypeNameOf) {
                foreach ($name in @(& $TypeNameOf $record)) { $record.PSObject.TypeNames.Insert(0, $name) }
            }
            $record
        }
        $process.WaitForExit()
        $finished = $true
        $code = $process.ExitCode
        $stderr = $stderrTask.Result.Trim()
        if ($OkExitCodes -notcontains $code) {
            $message = if ($stderr) { ($stderr -split "`r?`n")[0] -replace '^portqry-ts:\s*', '' } else { "portqry-ts exited with code $code" }
            $exception = New-Object System.Exception ("$message (portqry-ts exit code $code)")
            $exception.Data['ExitCode'] = $code
            $category = if ($script:ErrorCategories.ContainsKey($code)) { $script:ErrorCategories[$code] } else { 'NotSpecified' }
            $errorRecord = New-Object System.Management.Automation.ErrorRecord ($exception, "PortQryTs.ExitCode$code", $category, $TargetObject)
            $Cmdlet.WriteError($errorRecord)
        } elseif ($stderr) {
            Write-Warning $stderr
        }
    } finally {
        # Select-Object -First n stops the pipeline here: end the scan nobody reads any more.
        if (-not $finished -and -not $process.HasExited) { try { $process.Kill() } catch { } }
        $process.Dispose()
    }
}

function ConvertTo-PortList([int[]]$Port) {
    # -o takes ranges (1000-1024): runs of consecutive ports become ranges, in the order given, so that
    # -Port (1..65535) stays a short command line.
    $parts = New-Object System.Collections.Generic.List[string]
    $i = 0
    while ($i -lt $Port.Count) {
        $j = $i
        while ($j + 1 -lt $Port.Count -and $Port[$j + 1] -eq $Port[$j] + 1) { $j++ }
        if ($j -gt $i) { $parts.Add("$($Port[$i])-$($Port[$j])") } else { $parts.Add([string]$Port[$i]) }
        $i = $j + 1
    }
    $parts.ToArray() -join ','
}

function Add-FilterArguments {
    # The filters parse and stats share, as executable options.
    param([System.Collections.Generic.List[string]]$To, [hashtable]$Bound)
    $map = [ordered]@{
        ComputerName = '--computer'; Protocol = '--protocol'; Port = '--port'; LocalPort = '--local-port'
        RemotePort = '--remote-port'; ProcessName = '--process'; Module = '--module'; IPAddress = '--ip'
        UserName = '--user'; HostName = '--host'; Criteria = '--criteria'
    }
    foreach ($key in $map.Keys) {
        if ($Bound.ContainsKey($key)) { $To.Add($map[$key]); $To.Add((@($Bound[$key]) -join ',')) }
    }
    if ($Bound.ContainsKey('Since')) { $To.Add('--since'); $To.Add($Bound['Since'].ToUniversalTime().ToString('o')) }
    if ($Bound.ContainsKey('Until')) { $To.Add('--until'); $To.Add($Bound['Until'].ToUniversalTime().ToString('o')) }
}

function Invoke-PortQuery {
    <#
    .SYNOPSIS
    Is a TCP or UDP port LISTENING, NOT LISTENING or FILTERED on one or many hosts (portqry-ts query).
    .DESCRIPTION
    All targets of one call are checked concurrently by one run of the executable; objects stream out as
    answers arrive. Each is a PortQryTs.QueryResult (schemas/query-result.schema.json). NOT LISTENING and
    FILTERED are answers, not errors; a name that does not resolve or a bad value is an error.
    .EXAMPLE
    Invoke-PortQuery -ComputerName dc01 -Port 389
    .EXAMPLE
    'dc01','dc02' | Invoke-PortQuery -Preset ad | Where-Object State -ne 'LISTENING'
    #>
    [CmdletBinding(DefaultParameterSetName = 'Port')]
    [OutputType('PortQryTs.QueryResult')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Name', 'HostName', 'CN', 'Target')]
        [ValidateNotNullOrEmpty()]
        [string[]]$ComputerName,
        [Parameter(Position = 1, ParameterSetName = 'Port')]
        [ValidateRange(1, 65535)]
        [int[]]$Port = @(80),
        [Parameter(Mandatory, ParameterSetName = 'Preset')]
        [string[]]$Preset,
        [ValidateSet('TCP', 'UDP', 'Both')]
        [string]$Protocol = 'TCP',
        [ValidateRange(1, 600000)]
        [int]$TimeoutMs,
        [switch]$NoReverseLookup,
        [switch]$NoProbe
    )
    begin { $targets = New-Object System.Collections.Generic.List[string] }
    process { foreach ($c in $ComputerName) { $targets.Add($c) } }
    end {
        if ($targets.Count -eq 0) { return }
        $arguments = New-Object System.Collections.Generic.List[string]
        $arguments.Add('query')
        $targetsFile = $null
        if ($targets.Count -gt 50) {
            # Beyond a few dozen names a file keeps the command line short (Windows caps it at 32K).
            $targetsFile = [System.IO.Path]::GetTempFileName()
            [System.IO.File]::WriteAllLines($targetsFile, $targets.ToArray())
            $arguments.Add('--targets-file'); $arguments.Add($targetsFile)
        } else {
            $arguments.Add('-n'); $arguments.Add(($targets.ToArray() -join ','))
        }
        if ($PSCmdlet.ParameterSetName -eq 'Preset') { $arguments.Add('--preset'); $arguments.Add(($Preset -join ',')) }
        else { $arguments.Add('-o'); $arguments.Add((ConvertTo-PortList $Port)) }
        if ($PSBoundParameters.ContainsKey('Protocol') -or $PSCmdlet.ParameterSetName -eq 'Port') { $arguments.Add('-p'); $arguments.Add($Protocol.ToLowerInvariant()) }
        if ($PSBoundParameters.ContainsKey('TimeoutMs')) { $arguments.Add('--timeout'); $arguments.Add([string]$TimeoutMs) }
        if ($NoReverseLookup) { $arguments.Add('--no-reverse-lookup') }
        if ($NoProbe) { $arguments.Add('--no-probe') }
        try {
            Invoke-PortQryTsCore -Arguments $arguments.ToArray() -Cmdlet $PSCmdlet -OkExitCodes 0, 1, 2 -TargetObject ($targets.ToArray() -join ',') -TypeNameOf { 'PortQryTs.QueryResult' }
        } finally {
            if ($targetsFile) { Remove-Item -LiteralPath $targetsFile -ErrorAction SilentlyContinue }
        }
    }
}

function Test-PortQuery {
    <#
    .SYNOPSIS
    Invoke-PortQuery, or with -Quiet only $true (every queried port LISTENING) or $false.
    .EXAMPLE
    if (Test-PortQuery dc01 -Port 389 -Quiet) { 'LDAP is up' }
    #>
    [CmdletBinding(DefaultParameterSetName = 'Port')]
    [OutputType('PortQryTs.QueryResult', [bool])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Name', 'HostName', 'CN', 'Target')]
        [ValidateNotNullOrEmpty()]
        [string[]]$ComputerName,
        [Parameter(Position = 1, ParameterSetName = 'Port')]
        [ValidateRange(1, 65535)]
        [int[]]$Port = @(80),
        [Parameter(Mandatory, ParameterSetName = 'Preset')]
        [string[]]$Preset,
        [ValidateSet('TCP', 'UDP', 'Both')]
        [string]$Protocol = 'TCP',
        [ValidateRange(1, 600000)]
        [int]$TimeoutMs,
        [switch]$NoReverseLookup,
        [switch]$NoProbe,
        [switch]$Quiet
    )
    begin { $targets = New-Object System.Collections.Generic.List[string] }
    process { foreach ($c in $ComputerName) { $targets.Add($c) } }
    end {
        $forward = @{}
        foreach ($key in $PSBoundParameters.Keys) { if ($key -ne 'Quiet') { $forward[$key] = $PSBoundParameters[$key] } }
        $forward['ComputerName'] = $targets.ToArray()
        if (-not $Quiet) { Invoke-PortQuery @forward; return }
        $results = @(Invoke-PortQuery @forward)
        ($results.Count -gt 0) -and -not ($results | Where-Object { $_.State -ne 'LISTENING' })
    }
}

function Get-PortOwner {
    <#
    .SYNOPSIS
    Which process owns which local TCP/UDP endpoint (portqry-ts query -local): like Get-NetTCPConnection
    and Get-NetUDPEndpoint joined with Get-Process, with the user, services and modules.
    .EXAMPLE
    Get-PortOwner -LocalPort 443
    .EXAMPLE
    Get-PortOwner -State Listen | Sort-Object LocalPort | Format-Table
    #>
    [CmdletBinding()]
    [OutputType('PortQryTs.PortOwner')]
    param(
        [ValidateRange(0, 65535)][int[]]$LocalPort,
        [int[]]$OwningProcess,
        [ValidateSet('TCP', 'UDP')][string]$Protocol,
        [string[]]$State,
        [switch]$IncludeModules
    )
    $arguments = @('query', '--local')
    if (-not $IncludeModules) { $arguments += '--no-modules' }
    # -local also prints Port Statistics records; only the endpoint records are port owners.
    Invoke-PortQryTsCore -Arguments $arguments -Cmdlet $PSCmdlet -TypeNameOf { 'PortQryTs.PortOwner' } |
        Where-Object {
            $_.PSObject.Properties['LocalPort'] -and
            (-not $LocalPort -or $LocalPort -contains $_.LocalPort) -and
            (-not $OwningProcess -or $OwningProcess -contains $_.OwningProcess) -and
            (-not $Protocol -or $_.Protocol -eq $Protocol) -and
            (-not $State -or $State -contains $_.State)
        }
}

function Import-PortReporterLog {
    <#
    .SYNOPSIS
    Reads Port Reporter logs (Microsoft's PR-INITIAL / PR-PORTS / PR-PIDS and ours), correlated, filtered
    and flagged (portqry-ts parse), as PortQryTs.PortReporterRecord objects.
    .EXAMPLE
    Import-PortReporterLog C:\Windows\System32\LogFiles\PortReporter -LocalPort 3389
    .EXAMPLE
    Get-ChildItem \\srv01\logs -Filter 'PR-PORTS*' | Import-PortReporterLog -ProcessName svchost.exe
    #>
    [CmdletBinding()]
    [OutputType('PortQryTs.PortReporterRecord')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath')]
        [string[]]$Path,
        [string]$ComputerName, [ValidateSet('TCP', 'UDP')][string]$Protocol,
        [int[]]$Port, [int[]]$LocalPort, [int[]]$RemotePort,
        [string[]]$ProcessName, [string[]]$Module, [string[]]$IPAddress, [string[]]$UserName, [string[]]$HostName,
        [datetime]$Since, [datetime]$Until,
        [string]$Criteria, [switch]$FlaggedOnly, [switch]$Resolve
    )
    begin { $paths = New-Object System.Collections.Generic.List[string] }
    process {
        foreach ($p in $Path) {
            # Provider paths (Microsoft.PowerShell.Core\FileSystem::C:\...) from Get-ChildItem, as plain paths.
            $paths.Add(($p -replace '^Microsoft\.PowerShell\.Core\\FileSystem::', ''))
        }
    }
    end {
        $arguments = New-Object System.Collections.Generic.List[string]
        $arguments.Add('parse')
        foreach ($p in $paths) { $arguments.Add($p) }
        Add-FilterArguments -To $arguments -Bound $PSBoundParameters
        if ($FlaggedOnly) { $arguments.Add('--flagged-only') }
        if ($Resolve) { $arguments.Add('--resolve') }
        Invoke-PortQryTsCore -Arguments $arguments.ToArray() -Cmdlet $PSCmdlet -TargetObject ($paths.ToArray() -join ', ') -TypeNameOf { 'PortQryTs.PortReporterRecord' }
    }
}

function Get-PortReporterStatistic {
    <#
    .SYNOPSIS
    Port Reporter Parser's statistics over Port Reporter logs (portqry-ts stats); each row a
    PortQryTs.Statistic.<Statistic> object (schemas/stat-*.schema.json).
    .EXAMPLE
    Get-PortReporterStatistic C:\PRLogs -Statistic process-usage | Sort-Object PercentOfTime -Descending
    #>
    [CmdletBinding()]
    [OutputType('PortQryTs.Statistic')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath')]
        [string[]]$Path,
        [string[]]$Statistic,
        [switch]$PerComputer,
        [ValidateRange(1, 1000000)][int]$Top,
        [string]$ComputerName, [ValidateSet('TCP', 'UDP')][string]$Protocol,
        [int[]]$Port, [int[]]$LocalPort, [int[]]$RemotePort,
        [string[]]$ProcessName, [string[]]$Module, [string[]]$IPAddress, [string[]]$UserName, [string[]]$HostName,
        [datetime]$Since, [datetime]$Until,
        [string]$Criteria
    )
    begin { $paths = New-Object System.Collections.Generic.List[string] }
    process { foreach ($p in $Path) { $paths.Add(($p -replace '^Microsoft\.PowerShell\.Core\\FileSystem::', '')) } }
    end {
        $arguments = New-Object System.Collections.Generic.List[string]
        $arguments.Add('stats')
        foreach ($p in $paths) { $arguments.Add($p) }
        if ($Statistic) { $arguments.Add('--statistic'); $arguments.Add(($Statistic -join ',')) }
        if ($PerComputer) { $arguments.Add('--per-computer') }
        if ($PSBoundParameters.ContainsKey('Top')) { $arguments.Add('--top'); $arguments.Add([string]$Top) }
        Add-FilterArguments -To $arguments -Bound $PSBoundParameters
        Invoke-PortQryTsCore -Arguments $arguments.ToArray() -Cmdlet $PSCmdlet -OkExitCodes 0, 3 -TargetObject ($paths.ToArray() -join ', ') -TypeNameOf {
            param($r)
            'PortQryTs.Statistic'
            if ($r.PSObject.Properties['Statistic']) { "PortQryTs.Statistic.$($r.Statistic)" }
        }
    }
}

# Completion: values come from the executable's hidden `complete` command, which reads the CLI's own
# definitions, so new presets, statistics and options complete without editing this module.
function Get-PortQryTsCompletion([string[]]$Words) {
    try {
        $exe = Get-PortQryTsExecutable
        & $exe complete -- @Words 2>$null
    } catch { }
}

$script:ValueCompleter = {
    param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
    $words = switch ($parameterName) {
        'Preset' { @('query', '--preset', $wordToComplete) }
        'Statistic' { @('stats', '--statistic', $wordToComplete) }
    }
    Get-PortQryTsCompletion $words | Where-Object { $_ -ne 'list' } | ForEach-Object {
        New-Object System.Management.Automation.CompletionResult ($_, $_, 'ParameterValue', $_)
    }
}
Register-ArgumentCompleter -CommandName Invoke-PortQuery, Test-PortQuery -ParameterName Preset -ScriptBlock $script:ValueCompleter
Register-ArgumentCompleter -CommandName Get-PortReporterStatistic -ParameterName Statistic -ScriptBlock $script:ValueCompleter

# The bare executable: `portqry-ts query --pre<Tab>`.
$script:NativeCompleter = {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | Select-Object -Skip 1 | Where-Object { $_.Extent.EndOffset -le $cursorPosition } | ForEach-Object { $_.Extent.Text })
    if ($wordToComplete -eq '') { $words += '' }
    Get-PortQryTsCompletion $words | ForEach-Object {
        New-Object System.Management.Automation.CompletionResult ($_, $_, 'ParameterValue', $_)
    }
}
Register-ArgumentCompleter -Native -CommandName 'portqry-ts', 'portqry-ts.exe' -ScriptBlock $script:NativeCompleter

Export-ModuleMember -Function Invoke-PortQuery, Test-PortQuery, Get-PortOwner, Import-PortReporterLog, Get-PortReporterStatistic, Get-PortQryTsExecutable
