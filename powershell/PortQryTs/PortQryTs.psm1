# PortQryTs: PowerShell cmdlets over the portqry-ts executable. Each cmdlet runs the executable with
# --format jsonl, converts its output line by line as it arrives (the first object comes out while a
# long scan is still running), and gives every object a PSTypeName so PortQryTs.format.ps1xml can show
# a tidy table. With -Session the same cmdlet runs on each remote machine (Invoke-Command) and the
# objects come back with the same type names and PSComputerName.
#
# Windows PowerShell 5.1 and PowerShell 7 give the same objects: dates are converted here, not by
# ConvertFrom-Json (5.1 leaves ISO 8601 strings as strings, 7 converts them: PowerShell#13592), and no
# syntax or parameter newer than 5.1 is used (test/pwsh/compat.Tests.ps1 parses this file). Under
# ConstrainedLanguage (AppLocker/WDAC script enforcement) the cmdlets run the executable with the &
# operator and use only cmdlets and core types (hence -Session is [object[]] checked by PSTypeName: a
# [PSSession[]] constraint is a conversion ConstrainedLanguage refuses).
Set-StrictMode -Version 2.0

$script:OnWindows = $env:OS -eq 'Windows_NT'
$script:ExeName = if ($script:OnWindows) { 'portqry-ts.exe' } else { 'portqry-ts' }
$script:FullLanguage = $ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage'
# PowerShell 7.5+ can leave dates as strings (-DateKind String), so every edition takes the same path.
$script:JsonDateKind = [bool](Get-Command -Name ConvertFrom-Json -ParameterName DateKind -ErrorAction SilentlyContinue)

# Every property the schemas (schemas/*.schema.json) declare as "format": "date-time": top-level record
# properties, and those of a QueryResult's ProbeData (schemas/probe-data-*.schema.json). A test checks
# these lists against the schemas.
$script:DateProperties = @('TimeUtc', 'CreationTime', 'ProcessStartTime', 'FirstSeenUtc', 'LastSeenUtc', 'CreatedUtc')
$script:ProbeDateProperties = @('ServerTime', 'ReferenceTime', 'ReceiveTime', 'TransmitTime', 'SystemTime', 'ServerStartTime', 'NotBefore', 'NotAfter')

# The one definition of each cmdlet's parameters as options of the command it wraps. Arguments are
# built from it, and test/pwsh/parameters.Tests.ps1 checks it both ways against `portqry-ts complete`
# (every option the executable has is mapped, fixed or not exposed for a stated reason; every mapped
# option exists) and against the cmdlets' parameters (each is mapped or module-only).
$script:OutputOptions = @{
    '--format' = 'the module always reads --format jsonl'; '--json' = 'the module always reads --format jsonl'
    '--out-file' = 'objects go to the pipeline (Export-Csv writes files)'; '--delimiter' = 'objects go to the pipeline (Export-Csv -Delimiter)'
    '--color' = 'no terminal output'; '--force' = 'objects go to the pipeline (no file is written)'
}
$script:QueryParameters = [ordered]@{
    ComputerName = '--host'; Port = '--ports'; Preset = '--preset'; Protocol = '--protocol'; TimeoutMs = '--timeout'
    Retries = '--retries'; Concurrency = '--concurrency'; SlowLink = '--slow-link'; Probe = '--probe'
    NoReverseLookup = '--no-reverse-lookup'; NoProbe = '--no-probe'
}
$script:QueryNotExposed = $script:OutputOptions + @{
    '--targets-file' = 'the module passes -ComputerName lists through it itself'
    '--port' = '-Port takes lists and ranges (--ports)'; '--range' = '-Port takes lists and ranges (--ports)'
    '--source-port' = 'rarely needed: run the executable'; '--community' = 'rarely needed: run the executable'
    '--tls' = 'rarely needed: run the executable'; '--quiet' = 'stderr is read by the module'
    '--log-file' = 'objects go to the pipeline'; '--overwrite-log' = 'objects go to the pipeline'
    '--modules' = 'local mode: Get-PortOwner'; '--local' = 'local mode: Get-PortOwner'; '--statistics' = 'local mode: Get-PortOwner'
    '--verbose' = 'local mode: Get-PortOwner'
    '--watch-interval' = 'watch mode is interactive: run the executable'; '--duration' = 'watch mode is interactive: run the executable'
    '--watch-port' = 'watch mode is interactive: run the executable'; '--watch-pid' = 'watch mode is interactive: run the executable'
}
$script:FilterParameters = [ordered]@{
    ComputerName = '--computer'; UtcOffset = '--utc-offset'; Protocol = '--protocol'; Port = '--port'; LocalPort = '--local-port'
    RemotePort = '--remote-port'; ProcessName = '--process'; Module = '--module'; IPAddress = '--ip'; UserName = '--user'
    HostName = '--host'; Since = '--since'; Until = '--until'; Criteria = '--criteria'; FlaggedOnly = '--flagged-only'
    Resolve = '--resolve'; ResolveTimeoutMs = '--resolve-timeout'; Strict = '--strict'; Path = '--inputs-file'
}
$script:FilterNotExposed = $script:OutputOptions + @{
    '--fail-on-flag' = 'an exit code for scheduled scripts: the objects carry Flagged'
    '--quiet' = 'skipped-line warnings are Write-Warning (-WarningAction SilentlyContinue hides them)'
}
$script:StatsParameters = [ordered]@{}
foreach ($key in $script:FilterParameters.Keys) { $script:StatsParameters[$key] = $script:FilterParameters[$key] }
$script:StatsParameters['Statistic'] = '--statistic'; $script:StatsParameters['PerComputer'] = '--per-computer'; $script:StatsParameters['Top'] = '--top'
$script:ModuleOnly = @('Session', 'ThrottleLimit')
$script:CmdletOptions = @{
    'Invoke-PortQuery'          = @{ Command = 'query'; Parameters = $script:QueryParameters; Fixed = @(); ModuleOnly = $script:ModuleOnly; NotExposed = $script:QueryNotExposed }
    'Test-PortQuery'            = @{ Command = 'query'; Parameters = $script:QueryParameters; Fixed = @(); ModuleOnly = @($script:ModuleOnly + 'Quiet'); NotExposed = $script:QueryNotExposed }
    'Get-PortOwner'             = @{
        Command = 'record'; Parameters = [ordered]@{ IncludeModules = '--modules' }; Fixed = @('--once')
        # record --once has no filters: the module applies these to its records.
        ModuleOnly = @($script:ModuleOnly + 'LocalPort', 'OwningProcess', 'Protocol', 'State')
        NotExposed = $script:OutputOptions + @{
            '--log-dir' = 'the recorder itself: run the executable or its service'; '--log-size' = 'the recorder itself'; '--rotate' = 'the recorder itself'
            '--interval' = 'the recorder itself'; '--duration' = 'the recorder itself'; '--jsonl' = 'the recorder itself'
            '--install' = 'the recorder itself'; '--uninstall' = 'the recorder itself'; '--dry-run' = 'the recorder itself'; '--unit-dir' = 'the recorder itself'
            '--keep' = 'the recorder itself'; '--max-total' = 'the recorder itself'; '--destroy-events' = 'the recorder itself'; '--criteria' = 'the recorder itself'
            '--alerts-per-minute' = 'the recorder itself'; '--copy-to-program-files' = 'the recorder itself'
        }
    }
    'Import-PortReporterLog'    = @{ Command = 'parse'; Parameters = $script:FilterParameters; Fixed = @(); ModuleOnly = $script:ModuleOnly; NotExposed = $script:FilterNotExposed }
    'Get-PortReporterStatistic' = @{
        Command = 'stats'; Parameters = $script:StatsParameters; Fixed = @(); ModuleOnly = $script:ModuleOnly
        NotExposed = $script:FilterNotExposed + @{ '--html' = 'writes a report file: run the executable' }
        # Options the module uses when the executable has them (newer builds), allowed to be absent: with
        # them -Session counts remotely (--partial) and merges here (--merge) into one set of statistics;
        # without them each machine's statistics come back separately, with PSComputerName.
        Pending = @{ '--partial' = '-Session: each machine counts its logs'; '--merge' = '-Session: the counts merged here' }
    }
}
$script:CommonParameters = @('Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'InformationAction', 'ProgressAction', 'ErrorVariable',
    'WarningVariable', 'InformationVariable', 'OutVariable', 'OutBuffer', 'PipelineVariable', 'WhatIf', 'Confirm')

function Get-PortQryTsExecutable {
    <#
    .SYNOPSIS
    The portqry-ts executable the cmdlets run: $env:PORTQRY_TS_EXE, else the one beside the module
    folder (the dist/ and install layout: <dir>/PortQryTs + <dir>/portqry-ts[.exe]), else the one on PATH.
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

function Write-PortQryTsError {
    # One error record; in FullLanguage with the exit code in Exception.Data['ExitCode'] (ConstrainedLanguage
    # cannot build exceptions: there the code is in the ErrorId and the message only).
    param($Cmdlet, [string]$Message, [string]$ErrorId, [string]$Category = 'NotSpecified', $TargetObject, $ExitCode)
    if ($script:FullLanguage -and $Cmdlet) {
        $exception = New-Object System.Exception ($Message)
        if ($null -ne $ExitCode) { $exception.Data['ExitCode'] = $ExitCode }
        $record = New-Object System.Management.Automation.ErrorRecord ($exception, $ErrorId, $Category, $TargetObject)
        $Cmdlet.WriteError($record)
    } else {
        Write-Error -Message $Message -ErrorId $ErrorId -Category $Category -TargetObject $TargetObject
    }
}

function ConvertTo-PortQryTsDate($Value) {
    # An ISO 8601 time as a UTC [datetime], whichever edition parsed the JSON.
    if ($Value -is [string]) {
        return [datetime]::Parse($Value, [System.Globalization.CultureInfo]::InvariantCulture, [System.Globalization.DateTimeStyles]'AdjustToUniversal, AssumeUniversal')
    }
    if ($Value -is [datetime]) {
        if ($Value.Kind -eq 'Local') { return $Value.ToUniversalTime() }
        if ($Value.Kind -eq 'Unspecified') { return [datetime]::SpecifyKind($Value, 'Utc') }
    }
    $Value
}

function ConvertTo-PortQryTsRecord {
    # The date-time properties of one record (and of its ProbeData) as UTC [datetime]; null stays null.
    param($Record)
    $names = @($Record.PSObject.Properties | ForEach-Object { $_.Name })
    foreach ($name in $script:DateProperties) {
        if ($names -contains $name -and $null -ne $Record.$name) { $Record.$name = ConvertTo-PortQryTsDate $Record.$name }
    }
    if ($names -contains 'ProbeData' -and $null -ne $Record.ProbeData -and -not ($Record.ProbeData -is [string])) {
        $probe = $Record.ProbeData
        $probeNames = @($probe.PSObject.Properties | ForEach-Object { $_.Name })
        foreach ($name in $script:ProbeDateProperties) {
            if ($probeNames -contains $name -and $null -ne $probe.$name) { $probe.$name = ConvertTo-PortQryTsDate $probe.$name }
        }
    }
    $Record
}

function ConvertFrom-PortQryTsJson {
    # One JSON Lines line as a record: ConvertFrom-Json keeps dates as strings where it can (7.5+; 5.1
    # always does), then the module converts them (UTC kind).
    param([string]$Line)
    $options = @{}
    if ($script:JsonDateKind) { $options['DateKind'] = 'String' }
    ConvertTo-PortQryTsRecord ($Line | ConvertFrom-Json @options)
}

function Add-PortQryTsTypeName {
    param($Record, [string[]]$TypeName)
    foreach ($name in $TypeName) { Add-Member -InputObject $Record -TypeName $name }
}

function Invoke-PortQryTsCore {
    <#
    Runs the executable with -Arguments plus --format jsonl and writes one object per output line, as it
    arrives. In FullLanguage a Process object is used rather than the & operator: stdout is decoded as
    UTF-8 whatever the console code page, and stderr never becomes NativeCommandError records (which
    Windows PowerShell 5.1 turns into terminating errors under $ErrorActionPreference = 'Stop'). Under
    ConstrainedLanguage (no .NET types) the & operator runs it with stderr sent to a temporary file.
    Exit codes in -OkExitCodes are answers (query's 1 NOT LISTENING, 2 FILTERED); any other non-zero
    code becomes one error record with the executable's message and its exit code in the ErrorId.
    #>
    param(
        [Parameter(Mandatory)][string[]]$Arguments,
        $Cmdlet,
        [scriptblock]$TypeNameOf,
        [int[]]$OkExitCodes = @(0),
        [object]$TargetObject
    )
    $exe = Get-PortQryTsExecutable
    $all = @($Arguments) + @('--format', 'jsonl')
    Write-Verbose ("{0} {1}" -f $exe, ($all -join ' '))
    $emit = {
        param($line)
        if ($line -ne '') {
            $record = ConvertFrom-PortQryTsJson $line
            # Each name goes in front (Add-Member -TypeName): the last one given is the most specific.
            if ($TypeNameOf) { foreach ($name in @(& $TypeNameOf $record)) { Add-PortQryTsTypeName $record $name } }
            $record
        }
    }
    if ($script:FullLanguage) {
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
        $process = [System.Diagnostics.Process]::Start($psi)
        $finished = $false
        try {
            $process.StandardInput.Close()
            $stderrTask = $process.StandardError.ReadToEndAsync()
            while ($null -ne ($line = $process.StandardOutput.ReadLine())) { & $emit $line }
            $process.WaitForExit()
            $finished = $true
            $code = $process.ExitCode
            $stderr = $stderrTask.Result.Trim()
        } finally {
            # Select-Object -First n stops the pipeline here: end the scan nobody reads any more.
            if (-not $finished -and -not $process.HasExited) { try { $process.Kill() } catch { } }
            $process.Dispose()
        }
    } else {
        $errFile = New-TemporaryFile
        try {
            # Windows PowerShell 5.1 makes native stderr a terminating error under 'Stop'.
            $callerPreference = $ErrorActionPreference
            $ErrorActionPreference = 'Continue'
            & $exe @all 2> $errFile.FullName | ForEach-Object { & $emit $_ }
            $code = $LASTEXITCODE
            $ErrorActionPreference = $callerPreference
            $stderr = ''
            $raw = Get-Content -LiteralPath $errFile.FullName -Raw
            if ($raw) { $stderr = $raw.Trim() }
        } finally {
            Remove-Item -LiteralPath $errFile.FullName -ErrorAction SilentlyContinue
        }
    }
    if ($OkExitCodes -notcontains $code) {
        # 5.1's & writes stderr lines as "portqry-ts.exe : portqry-ts: message".
        $message = if ($stderr) { ($stderr -split "`r?`n")[0] -replace '^(.*portqry-ts(\.exe)?\s*:\s*)?portqry-ts:\s*', '' } else { "portqry-ts exited with code $code" }
        $category = if ($script:ErrorCategories.ContainsKey($code)) { $script:ErrorCategories[$code] } else { 'NotSpecified' }
        Write-PortQryTsError -Cmdlet $Cmdlet -Message "$message (portqry-ts exit code $code)" -ErrorId "PortQryTs.ExitCode$code" -Category $category -TargetObject $TargetObject -ExitCode $code
    } elseif ($stderr) {
        Write-Warning $stderr
    }
}

function ConvertTo-PortList([int[]]$Port) {
    # --ports takes ranges (1000-1024): runs of consecutive ports become ranges, in the order given, so
    # that -Port (1..65535) stays a short command line.
    $parts = @()
    $i = 0
    while ($i -lt $Port.Count) {
        $j = $i
        while ($j + 1 -lt $Port.Count -and $Port[$j + 1] -eq $Port[$j] + 1) { $j++ }
        if ($j -gt $i) { $parts += "$($Port[$i])-$($Port[$j])" } else { $parts += [string]$Port[$i] }
        $i = $j + 1
    }
    $parts -join ','
}

function ConvertTo-PortQryTsArgument {
    # Executable options from the bound parameters, by the cmdlet's entry in $script:CmdletOptions.
    # Parameters in -Skip are the caller's to pass (targets, paths, port lists).
    param([string]$CmdletName, $Bound, [string[]]$Skip = @())
    $map = $script:CmdletOptions[$CmdletName].Parameters
    $boundNames = @($Bound.Keys)
    foreach ($name in $map.Keys) {
        if ($Skip -contains $name -or $boundNames -notcontains $name) { continue }
        $value = $Bound[$name]
        $option = $map[$name]
        if ($value -is [System.Management.Automation.SwitchParameter] -or $value -is [bool]) {
            if ($value) { $option }
        } elseif ($value -is [datetime]) {
            $option; $value.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ')
        } else {
            $option; (@($value) | ForEach-Object { [string]$_ }) -join ','
        }
    }
}

function New-PortQryTsListFile([string[]]$Lines) {
    # A temporary UTF-8 list file (5.1 writes a BOM, 7 none: the executable reads both).
    $file = New-TemporaryFile
    Set-Content -LiteralPath $file.FullName -Value $Lines -Encoding UTF8
    $file.FullName
}

# The remote half of -Session: finds the installed module on the remote machine and runs the same cmdlet
# there. Looked for in: the folder Install-PortQryTs used in this session, $env:PORTQRY_TS_HOME, the
# default install folder, then PSModulePath.
$script:RemoteRunner = {
    param([string]$CmdletName, [hashtable]$Parameters, [string[]]$ExeArguments)
    $homes = @()
    $installed = Get-Variable -Name PortQryTsInstallPath -Scope Global -ValueOnly -ErrorAction SilentlyContinue
    if ($installed) { $homes += $installed }
    if ($env:PORTQRY_TS_HOME) { $homes += $env:PORTQRY_TS_HOME }
    if ($env:OS -eq 'Windows_NT') { $homes += (Join-Path $env:ProgramFiles 'portqry-ts') } else { $homes += '/opt/portqry-ts' }
    $manifest = $null
    foreach ($h in $homes) {
        $candidate = Join-Path (Join-Path $h 'PortQryTs') 'PortQryTs.psd1'
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { $manifest = $candidate; break }
    }
    if (-not $manifest) {
        $listed = Get-Module -ListAvailable -Name PortQryTs | Select-Object -First 1
        if ($listed) { $manifest = $listed.Path }
    }
    if (-not $manifest) { throw "portqry-ts is not installed (looked in $($homes -join ', ') and PSModulePath): run Install-PortQryTs -Session" }
    Import-Module -Name $manifest -ErrorAction Stop
    if (-not $ExeArguments) { & $CmdletName @Parameters; return }
    # The executable itself, its stdout lines returned as they are (stats --partial documents).
    $exe = Get-PortQryTsExecutable
    $ErrorActionPreference = 'Continue'
    $stderr = @()
    & $exe @ExeArguments 2>&1 | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $stderr += [string]$_ } else { $_ } }
    if ($LASTEXITCODE -ne 0) {
        $message = if ($stderr) { $stderr[0] -replace '^portqry-ts:\s*', '' } else { "exit code $LASTEXITCODE" }
        throw "portqry-ts $($ExeArguments[0]): $message (portqry-ts exit code $LASTEXITCODE)"
    }
}

function Invoke-PortQryTsRemote {
    <#
    Runs $CmdletName with the bound parameters on each open session (Invoke-Command -ThrottleLimit). Objects
    come back with PSComputerName and get the local type names in front of the Deserialized ones; each
    error (a session that is not open, no portqry-ts there, the executable's own errors) is one record
    naming the machine, and the other machines still answer.
    #>
    param($Cmdlet, [string]$CmdletName, $Bound, [object[]]$Session, [int]$ThrottleLimit, [hashtable]$Override = @{}, [string[]]$ExeArguments = @())
    $parameters = @{}
    foreach ($key in @($Bound.Keys)) {
        if ($script:CommonParameters -contains $key -or $script:ModuleOnly -contains $key) { continue }
        $value = $Bound[$key]
        # A SwitchParameter would arrive as a property bag (always true): send a plain bool.
        if ($value -is [System.Management.Automation.SwitchParameter]) { $value = [bool]$value }
        $parameters[$key] = $value
    }
    foreach ($key in @($Override.Keys)) { $parameters[$key] = $Override[$key] }
    $open = @()
    foreach ($s in $Session) {
        if ($s.State -ne 'Opened') {
            Write-PortQryTsError -Cmdlet $Cmdlet -Message "$($s.ComputerName): the session is $($s.State), not Opened; nothing ran there" -ErrorId 'PortQryTs.SessionNotOpen' -Category 'ResourceUnavailable' -TargetObject $s.ComputerName
        } else { $open += $s }
    }
    if ($open.Count -eq 0) { return }
    Invoke-Command -Session $open -ThrottleLimit $ThrottleLimit -ScriptBlock $script:RemoteRunner -ArgumentList $CmdletName, $parameters, $ExeArguments -ErrorAction Continue 2>&1 | ForEach-Object {
        if ($_ -is [System.Management.Automation.ErrorRecord]) {
            $computer = $null
            if ($_.PSObject.Properties['OriginInfo'] -and $_.OriginInfo) { $computer = $_.OriginInfo.PSComputerName }
            if (-not $computer) { $computer = [string]$_.TargetObject }
            $message = $_.Exception.Message
            if ($computer -and -not $message.StartsWith("${computer}:")) { $message = "${computer}: $message" }
            $id = ($_.FullyQualifiedErrorId -split ',')[0]
            Write-PortQryTsError -Cmdlet $Cmdlet -Message $message -ErrorId $id -Category ([string]$_.CategoryInfo.Category) -TargetObject $computer
        } else {
            $record = $_
            $names = @($record.PSObject.TypeNames | Where-Object { $_ -like 'Deserialized.PortQryTs.*' } | ForEach-Object { $_.Substring(13) })
            for ($i = $names.Count - 1; $i -ge 0; $i--) { Add-PortQryTsTypeName $record $names[$i] }
            $record
        }
    }
}

function Test-PortQryTsOption([string]$Command, [string]$Option) {
    # Whether this executable has an option (newer builds add some), from its own `complete` command.
    $key = "$Command $Option"
    if (-not $script:OptionCache.ContainsKey($key)) {
        $exe = Get-PortQryTsExecutable
        $script:OptionCache[$key] = @(& $exe complete --new-word -- $Command 2>$null) -contains $Option
    }
    $script:OptionCache[$key]
}
$script:OptionCache = @{}

function Invoke-PortQuery {
    <#
    .SYNOPSIS
    Is a TCP or UDP port LISTENING, NOT LISTENING or FILTERED on one or many hosts (portqry-ts query).
    .DESCRIPTION
    All targets of one call are checked concurrently by one run of the executable; objects stream out as
    answers arrive. Each is a PortQryTs.QueryResult (schemas/query-result.schema.json). NOT LISTENING and
    FILTERED are answers, not errors; a name that does not resolve or a bad value is an error.
    With -Session the query runs ON each remote machine (portqry-ts installed there by Install-PortQryTs):
    -ComputerName stays the target, PSComputerName says which machine asked.
    .EXAMPLE
    Invoke-PortQuery -ComputerName dc01 -Port 389
    .EXAMPLE
    'dc01','dc02' | Invoke-PortQuery -Preset ad | Where-Object State -ne 'LISTENING'
    .EXAMPLE
    Invoke-PortQuery -Session $servers -ComputerName dc01 -Preset ad | Where-Object State -ne LISTENING | Format-Table PSComputerName, RemotePort, State
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
        [ValidateRange(1, 20)]
        [int]$Retries,
        [ValidateRange(1, 10000)]
        [int]$Concurrency,
        [switch]$SlowLink,
        [string]$Probe,
        [switch]$NoReverseLookup,
        [switch]$NoProbe,
        [PSTypeName('System.Management.Automation.Runspaces.PSSession')][object[]]$Session,
        [ValidateRange(1, 1000)]
        [int]$ThrottleLimit = 32
    )
    begin { $targets = @() }
    process { foreach ($c in $ComputerName) { $targets += $c } }
    end {
        if ($targets.Count -eq 0) { return }
        if ($Session) {
            Invoke-PortQryTsRemote -Cmdlet $PSCmdlet -CmdletName 'Invoke-PortQuery' -Bound $PSBoundParameters -Session $Session -ThrottleLimit $ThrottleLimit -Override @{ ComputerName = $targets }
            return
        }
        $arguments = @('query')
        $targetsFile = $null
        if ($targets.Count -gt 50) {
            # Beyond a few dozen names a file keeps the command line short (Windows caps it at 32K).
            $targetsFile = New-PortQryTsListFile $targets
            $arguments += '--targets-file', $targetsFile
        } else {
            $arguments += '--host', ($targets -join ',')
        }
        if ($PSCmdlet.ParameterSetName -eq 'Port') { $arguments += '--ports', (ConvertTo-PortList $Port) }
        if (@($PSBoundParameters.Keys) -contains 'Protocol' -or $PSCmdlet.ParameterSetName -eq 'Port') { $arguments += '--protocol', $Protocol.ToLowerInvariant() }
        $arguments += @(ConvertTo-PortQryTsArgument 'Invoke-PortQuery' $PSBoundParameters -Skip 'ComputerName', 'Port', 'Protocol')
        try {
            Invoke-PortQryTsCore -Arguments $arguments -Cmdlet $PSCmdlet -OkExitCodes 0, 1, 2 -TargetObject ($targets -join ',') -TypeNameOf { 'PortQryTs.QueryResult' }
        } finally {
            if ($targetsFile) { Remove-Item -LiteralPath $targetsFile -ErrorAction SilentlyContinue }
        }
    }
}

function Test-PortQuery {
    <#
    .SYNOPSIS
    Invoke-PortQuery, or with -Quiet only $true (every queried port LISTENING) or $false.
    .DESCRIPTION
    With -Session: "can servers A..Z reach dc01?" — the query runs on each remote machine; with -Quiet,
    one $true/$false per machine (PSComputerName says which).
    .EXAMPLE
    if (Test-PortQuery dc01 -Port 389 -Quiet) { 'LDAP is up' }
    .EXAMPLE
    Test-PortQuery -Session $all -ComputerName dc01 -Preset ad
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
        [ValidateRange(1, 20)]
        [int]$Retries,
        [ValidateRange(1, 10000)]
        [int]$Concurrency,
        [switch]$SlowLink,
        [string]$Probe,
        [switch]$NoReverseLookup,
        [switch]$NoProbe,
        [switch]$Quiet,
        [PSTypeName('System.Management.Automation.Runspaces.PSSession')][object[]]$Session,
        [ValidateRange(1, 1000)]
        [int]$ThrottleLimit = 32
    )
    begin { $targets = @() }
    process { foreach ($c in $ComputerName) { $targets += $c } }
    end {
        if ($Session) {
            Invoke-PortQryTsRemote -Cmdlet $PSCmdlet -CmdletName 'Test-PortQuery' -Bound $PSBoundParameters -Session $Session -ThrottleLimit $ThrottleLimit -Override @{ ComputerName = $targets }
            return
        }
        $forward = @{}
        foreach ($key in @($PSBoundParameters.Keys)) { if ($key -ne 'Quiet') { $forward[$key] = $PSBoundParameters[$key] } }
        $forward['ComputerName'] = $targets
        if (-not $Quiet) { Invoke-PortQuery @forward; return }
        $results = @(Invoke-PortQuery @forward)
        ($results.Count -gt 0) -and -not ($results | Where-Object { $_.State -ne 'LISTENING' })
    }
}

function Get-PortOwner {
    <#
    .SYNOPSIS
    Which process owns which local TCP/UDP endpoint (portqry-ts record --once): like Get-NetTCPConnection
    and Get-NetUDPEndpoint joined with Get-Process, with the user, services and (-IncludeModules) modules.
    .EXAMPLE
    Get-PortOwner -LocalPort 443
    .EXAMPLE
    Get-PortOwner -State Listen | Sort-Object LocalPort | Format-Table
    .EXAMPLE
    Get-PortOwner -Session $servers -LocalPort 3389 | Format-Table PSComputerName, ProcessName, UserName
    #>
    [CmdletBinding()]
    [OutputType('PortQryTs.PortOwner')]
    param(
        [ValidateRange(0, 65535)][int[]]$LocalPort,
        [int[]]$OwningProcess,
        [ValidateSet('TCP', 'UDP')][string]$Protocol,
        [string[]]$State,
        [switch]$IncludeModules,
        [PSTypeName('System.Management.Automation.Runspaces.PSSession')][object[]]$Session,
        [ValidateRange(1, 1000)][int]$ThrottleLimit = 32
    )
    if ($Session) {
        Invoke-PortQryTsRemote -Cmdlet $PSCmdlet -CmdletName 'Get-PortOwner' -Bound $PSBoundParameters -Session $Session -ThrottleLimit $ThrottleLimit
        return
    }
    # record --once prints only owner records (schemas/port-owner.schema.json); modules cost time, so
    # they are asked for only with -IncludeModules.
    $arguments = @('record', '--once')
    if ($IncludeModules) { $arguments += '--modules' } else { $arguments += '--no-modules' }
    Invoke-PortQryTsCore -Arguments $arguments -Cmdlet $PSCmdlet -TypeNameOf { 'PortQryTs.PortOwner' } |
        Where-Object {
            (-not $LocalPort -or $LocalPort -contains $_.LocalPort) -and
            (-not $OwningProcess -or $OwningProcess -contains $_.OwningProcess) -and
            (-not $Protocol -or $_.Protocol -eq $Protocol) -and
            (-not $State -or $State -contains $_.State)
        }
}

function Get-PortQryTsInputArgument([string[]]$Paths) {
    # Inputs on the command line, or beyond a few dozen through --inputs-file (Windows caps a command line
    # at 32K characters). Returns the arguments and the list file to remove afterwards.
    if ($Paths.Count -gt 50) {
        $file = New-PortQryTsListFile $Paths
        return @{ Arguments = @('--inputs-file', $file); File = $file }
    }
    @{ Arguments = @($Paths); File = $null }
}

function Import-PortReporterLog {
    <#
    .SYNOPSIS
    Reads Port Reporter logs (Microsoft's PR-INITIAL / PR-PORTS / PR-PIDS and ours), correlated, filtered
    and flagged (portqry-ts parse), as PortQryTs.PortReporterRecord objects.
    .DESCRIPTION
    Any number of files: beyond a few dozen they go to the executable in a list file (--inputs-file).
    With -Session, -Path names folders or files on each remote machine and the logs are read there.
    .EXAMPLE
    Import-PortReporterLog C:\Windows\System32\LogFiles\PortReporter -LocalPort 3389
    .EXAMPLE
    Get-ChildItem \\srv01\logs -Filter 'PR-PORTS*' | Import-PortReporterLog -ProcessName svchost.exe
    .EXAMPLE
    Import-PortReporterLog -Session $servers C:\Windows\System32\LogFiles\PortReporter -RemotePort 445
    #>
    [CmdletBinding()]
    [OutputType('PortQryTs.PortReporterRecord')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName', 'PSPath')]
        [string[]]$Path,
        [string]$ComputerName, [string]$UtcOffset, [ValidateSet('TCP', 'UDP')][string]$Protocol,
        [int[]]$Port, [int[]]$LocalPort, [int[]]$RemotePort,
        [string[]]$ProcessName, [string[]]$Module, [string[]]$IPAddress, [string[]]$UserName, [string[]]$HostName,
        [datetime]$Since, [datetime]$Until,
        [string]$Criteria, [switch]$FlaggedOnly, [switch]$Resolve, [ValidateRange(1, 60000)][int]$ResolveTimeoutMs, [switch]$Strict,
        [PSTypeName('System.Management.Automation.Runspaces.PSSession')][object[]]$Session,
        [ValidateRange(1, 1000)][int]$ThrottleLimit = 32
    )
    begin { $paths = @() }
    process {
        # Provider paths (Microsoft.PowerShell.Core\FileSystem::C:\...) from Get-ChildItem, as plain paths.
        foreach ($p in $Path) { $paths += ($p -replace '^Microsoft\.PowerShell\.Core\\FileSystem::', '') }
    }
    end {
        if ($Session) {
            Invoke-PortQryTsRemote -Cmdlet $PSCmdlet -CmdletName 'Import-PortReporterLog' -Bound $PSBoundParameters -Session $Session -ThrottleLimit $ThrottleLimit -Override @{ Path = $paths }
            return
        }
        $inputs = Get-PortQryTsInputArgument $paths
        $arguments = @('parse') + $inputs.Arguments + @(ConvertTo-PortQryTsArgument 'Import-PortReporterLog' $PSBoundParameters -Skip 'Path')
        try {
            Invoke-PortQryTsCore -Arguments $arguments -Cmdlet $PSCmdlet -TargetObject ($paths -join ', ') -TypeNameOf { 'PortQryTs.PortReporterRecord' }
        } finally {
            if ($inputs.File) { Remove-Item -LiteralPath $inputs.File -ErrorAction SilentlyContinue }
        }
    }
}

function Get-PortReporterStatistic {
    <#
    .SYNOPSIS
    Port Reporter Parser's statistics over Port Reporter logs (portqry-ts stats); each row a
    PortQryTs.Statistic.<Statistic> object (schemas/stat-*.schema.json).
    .DESCRIPTION
    With -Session, -Path names logs on each remote machine and each machine counts its own logs. With an
    executable that has stats --partial/--merge, only the counts cross the network and they are merged
    here into the statistics one run over all the machines' logs gives (-PerComputer splits them by
    computer); with an older one, each machine's rows come back with PSComputerName.
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
        [string]$ComputerName, [string]$UtcOffset, [ValidateSet('TCP', 'UDP')][string]$Protocol,
        [int[]]$Port, [int[]]$LocalPort, [int[]]$RemotePort,
        [string[]]$ProcessName, [string[]]$Module, [string[]]$IPAddress, [string[]]$UserName, [string[]]$HostName,
        [datetime]$Since, [datetime]$Until,
        [string]$Criteria, [switch]$FlaggedOnly, [switch]$Resolve, [ValidateRange(1, 60000)][int]$ResolveTimeoutMs, [switch]$Strict,
        [PSTypeName('System.Management.Automation.Runspaces.PSSession')][object[]]$Session,
        [ValidateRange(1, 1000)][int]$ThrottleLimit = 32
    )
    begin { $paths = @() }
    process { foreach ($p in $Path) { $paths += ($p -replace '^Microsoft\.PowerShell\.Core\\FileSystem::', '') } }
    end {
        $typeNameOf = {
            param($r)
            'PortQryTs.Statistic'
            if (@($r.PSObject.Properties | ForEach-Object { $_.Name }) -contains 'Statistic') { "PortQryTs.Statistic.$($r.Statistic)" }
        }
        if ($Session -and -not (Test-PortQryTsOption 'stats' '--merge')) {
            # An executable without stats --partial/--merge: each machine's own statistics.
            Invoke-PortQryTsRemote -Cmdlet $PSCmdlet -CmdletName 'Get-PortReporterStatistic' -Bound $PSBoundParameters -Session $Session -ThrottleLimit $ThrottleLimit -Override @{ Path = $paths }
            return
        }
        if ($Session) {
            # Each machine counts its own logs (stats --partial: filters, criteria and names applied there);
            # only the summaries cross the network, and one merge here gives the statistics one run over
            # all the machines' logs gives (stats --merge: -Statistic, -Top, -PerComputer apply to it).
            $atMerge = @('Statistic', 'Top', 'PerComputer')
            $remoteArguments = @('stats') + $paths + @(ConvertTo-PortQryTsArgument 'Get-PortReporterStatistic' $PSBoundParameters -Skip (@('Path') + $atMerge)) + @('--partial', '--format', 'jsonl')
            $partials = @(Invoke-PortQryTsRemote -Cmdlet $PSCmdlet -CmdletName 'Get-PortReporterStatistic' -Bound @{} -Session $Session -ThrottleLimit $ThrottleLimit -ExeArguments $remoteArguments |
                Where-Object { $_ -is [string] -and $_ -ne '' })
            if ($partials.Count -eq 0) { return }
            $file = New-PortQryTsListFile $partials
            try {
                $arguments = @('stats', '--merge', $file) + @(ConvertTo-PortQryTsArgument 'Get-PortReporterStatistic' $PSBoundParameters -Skip (@($script:StatsParameters.Keys) | Where-Object { $atMerge -notcontains $_ }))
                Invoke-PortQryTsCore -Arguments $arguments -Cmdlet $PSCmdlet -OkExitCodes 0, 3 -TargetObject (@($Session | ForEach-Object { $_.ComputerName }) -join ', ') -TypeNameOf $typeNameOf
            } finally {
                Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue
            }
            return
        }
        $inputs = Get-PortQryTsInputArgument $paths
        $arguments = @('stats') + $inputs.Arguments + @(ConvertTo-PortQryTsArgument 'Get-PortReporterStatistic' $PSBoundParameters -Skip 'Path')
        try {
            Invoke-PortQryTsCore -Arguments $arguments -Cmdlet $PSCmdlet -OkExitCodes 0, 3 -TargetObject ($paths -join ', ') -TypeNameOf $typeNameOf
        } finally {
            if ($inputs.File) { Remove-Item -LiteralPath $inputs.File -ErrorAction SilentlyContinue }
        }
    }
}

function Install-PortQryTs {
    <#
    .SYNOPSIS
    Copies portqry-ts and this module onto remote machines (Copy-Item -ToSession), checks the SHA-256
    there, and skips machines that already have the same build.
    .DESCRIPTION
    Installs into -Path on each machine (default: $env:ProgramFiles\portqry-ts on Windows, /opt/portqry-ts
    elsewhere) as <Path>\portqry-ts.exe and <Path>\PortQryTs, the layout the module finds its executable
    in. The executable copied is the build for the remote system found beside this module
    (portqry-ts.exe for Windows, portqry-ts for Linux) unless -ExecutablePath names one. It is copied
    under a temporary name, verified by hash, then moved into place (a running old copy is renamed
    first), so a failed copy never leaves a broken executable. The session remembers the folder, so the
    other cmdlets' -Session finds it. One PortQryTs.InstallResult per machine (Status Installed, Updated
    or Current); a machine that fails is one error record naming it and the others go on.
    .EXAMPLE
    $all = New-PSSession -ComputerName (Get-Content servers.txt); Install-PortQryTs -Session $all
    .EXAMPLE
    Install-PortQryTs -Session $s -Path 'D:\Tools\portqry-ts'; Test-PortQuery -Session $s -ComputerName dc01 -Preset ad
    #>
    [CmdletBinding()]
    [OutputType('PortQryTs.InstallResult')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline)]
        [PSTypeName('System.Management.Automation.Runspaces.PSSession')][object[]]$Session,
        [string]$Path,
        [string]$ExecutablePath,
        [switch]$Force
    )
    begin {
        $moduleFiles = @(Get-ChildItem -LiteralPath $PSScriptRoot -File | Sort-Object Name)
        $moduleHashes = @{}
        foreach ($f in $moduleFiles) { $moduleHashes[$f.Name] = (Get-FileHash -LiteralPath $f.FullName -Algorithm SHA256).Hash }
        $probe = {
            param($Path, [string[]]$ModuleFiles)
            $windows = $env:OS -eq 'Windows_NT'
            if (-not $Path) { $Path = if ($windows) { Join-Path $env:ProgramFiles 'portqry-ts' } else { '/opt/portqry-ts' } }
            $exe = Join-Path $Path $(if ($windows) { 'portqry-ts.exe' } else { 'portqry-ts' })
            $hashes = @{}
            foreach ($name in $ModuleFiles) {
                $file = Join-Path (Join-Path $Path 'PortQryTs') $name
                if (Test-Path -LiteralPath $file -PathType Leaf) { $hashes[$name] = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash }
            }
            @{
                Windows = $windows; Path = $Path; Exe = $exe; ModuleHashes = $hashes
                ExeHash = $(if (Test-Path -LiteralPath $exe -PathType Leaf) { (Get-FileHash -LiteralPath $exe -Algorithm SHA256).Hash } else { $null })
            }
        }
        $place = {
            param($Exe, [string]$Hash, [bool]$Windows)
            $new = "$Exe.new"
            $got = (Get-FileHash -LiteralPath $new -Algorithm SHA256).Hash
            if ($got -ne $Hash) { Remove-Item -LiteralPath $new -Force; throw "the copy of $Exe has SHA-256 $got, expected $Hash" }
            if (-not $Windows) { & chmod 755 $new; if ($LASTEXITCODE -ne 0) { throw "chmod 755 $new failed" } }
            if (Test-Path -LiteralPath $Exe) {
                # Windows cannot overwrite a running executable but can rename it.
                Remove-Item -LiteralPath "$Exe.old" -Force -ErrorAction SilentlyContinue
                Move-Item -LiteralPath $Exe -Destination "$Exe.old" -Force
            }
            Move-Item -LiteralPath $new -Destination $Exe -Force
            Remove-Item -LiteralPath "$Exe.old" -Force -ErrorAction SilentlyContinue
        }
    }
    process {
        foreach ($s in $Session) {
            $computer = $s.ComputerName
            if ($s.State -ne 'Opened') {
                Write-PortQryTsError -Cmdlet $PSCmdlet -Message "${computer}: the session is $($s.State), not Opened; nothing was installed" -ErrorId 'PortQryTs.SessionNotOpen' -Category 'ResourceUnavailable' -TargetObject $computer
                continue
            }
            try {
                $remote = Invoke-Command -Session $s -ScriptBlock $probe -ArgumentList $Path, @($moduleHashes.Keys) -ErrorAction Stop
                $local = $ExecutablePath
                if (-not $local) { $local = Join-Path (Split-Path -Parent $PSScriptRoot) $(if ($remote.Windows) { 'portqry-ts.exe' } else { 'portqry-ts' }) }
                if (-not (Test-Path -LiteralPath $local -PathType Leaf)) { throw "the executable to copy, $local, does not exist (build it, or give -ExecutablePath)" }
                $exeHash = (Get-FileHash -LiteralPath $local -Algorithm SHA256).Hash
                $moduleCurrent = $true
                foreach ($name in @($moduleHashes.Keys)) {
                    if (-not $remote.ModuleHashes.ContainsKey($name) -or $remote.ModuleHashes[$name] -ne $moduleHashes[$name]) { $moduleCurrent = $false }
                }
                $status = 'Current'
                if ($Force -or $remote.ExeHash -ne $exeHash -or -not $moduleCurrent) {
                    $status = if ($remote.ExeHash) { 'Updated' } else { 'Installed' }
                    $moduleDir = Join-Path $remote.Path 'PortQryTs'
                    Invoke-Command -Session $s -ScriptBlock { param($d) New-Item -ItemType Directory -Force -Path $d | Out-Null } -ArgumentList $moduleDir -ErrorAction Stop
                    if ($Force -or $remote.ExeHash -ne $exeHash) {
                        Copy-Item -LiteralPath $local -Destination "$($remote.Exe).new" -ToSession $s -Force -ErrorAction Stop
                        Invoke-Command -Session $s -ScriptBlock $place -ArgumentList $remote.Exe, $exeHash, $remote.Windows -ErrorAction Stop
                    }
                    foreach ($f in $moduleFiles) {
                        $target = Join-Path $moduleDir $f.Name
                        Copy-Item -LiteralPath $f.FullName -Destination $target -ToSession $s -Force -ErrorAction Stop
                    }
                    $check = Invoke-Command -Session $s -ScriptBlock $probe -ArgumentList $remote.Path, @($moduleHashes.Keys) -ErrorAction Stop
                    if ($check.ExeHash -ne $exeHash) { throw "after the copy $($remote.Exe) has SHA-256 $($check.ExeHash), expected $exeHash" }
                    foreach ($name in @($moduleHashes.Keys)) {
                        if ($check.ModuleHashes[$name] -ne $moduleHashes[$name]) { throw "after the copy $name in $moduleDir does not have the SHA-256 of this module's" }
                    }
                }
                # The other cmdlets' -Session look here first.
                Invoke-Command -Session $s -ScriptBlock { param($p) $global:PortQryTsInstallPath = $p } -ArgumentList $remote.Path -ErrorAction Stop
                $result = New-Object PSObject -Property ([ordered]@{ ComputerName = $computer; Path = $remote.Path; Executable = $remote.Exe; Sha256 = $exeHash; Status = $status })
                Add-PortQryTsTypeName $result 'PortQryTs.InstallResult'
                $result
            } catch {
                Write-PortQryTsError -Cmdlet $PSCmdlet -Message "${computer}: $($_.Exception.Message)" -ErrorId 'PortQryTs.InstallFailed' -Category 'NotSpecified' -TargetObject $computer
            }
        }
    }
}

# Completion: values come from the executable's hidden `complete` command, which reads the CLI's own
# definitions, so new presets, statistics and options complete without editing this module. An empty
# word being completed is passed as --new-word: Windows PowerShell 5.1 drops '' native arguments
# (PowerShell#1995).
function Get-PortQryTsCompletion([string[]]$Words) {
    try {
        $exe = Get-PortQryTsExecutable
        $marker = @()
        $words = @($Words)
        if ($words.Count -eq 0 -or $words[$words.Count - 1] -eq '') {
            $marker = @('--new-word')
            if ($words.Count -gt 0) { $words = @($words | Select-Object -First ($words.Count - 1)) }
        }
        & $exe complete @marker -- @words 2>$null
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

Export-ModuleMember -Function Invoke-PortQuery, Test-PortQuery, Get-PortOwner, Import-PortReporterLog, Get-PortReporterStatistic, Install-PortQryTs, Get-PortQryTsExecutable
