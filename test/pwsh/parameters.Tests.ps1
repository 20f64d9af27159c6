# The module's parameters cannot drift from the executable's options: each cmdlet's entry in the module's
# one definition ($script:CmdletOptions) is checked against what `portqry-ts complete` reports for the
# command it wraps, and against the cmdlet's own parameters; then the executable is run with every
# option the module can send.
BeforeAll {
    $Root = (Resolve-Path "$PSScriptRoot/../..").Path
    Remove-Item Env:PORTQRY_TS_EXE -ErrorAction SilentlyContinue
    Import-Module (Join-Path $Root 'dist/PortQryTs/PortQryTs.psd1') -Force
    $Module = Get-Module PortQryTs
    $Exe = Get-PortQryTsExecutable
    $Options = & $Module { $script:CmdletOptions }
    $Common = & $Module { $script:CommonParameters }
    function Get-ExeOption([string]$Command) { @(& $Exe complete --new-word -- $Command) }
    $Fixtures = Join-Path $Root 'test/fixtures/portreporter'
    $Work = Join-Path ([System.IO.Path]::GetTempPath()) ("portqry-ts-params-" + [guid]::NewGuid())
    New-Item -ItemType Directory -Path $Work | Out-Null
}
AfterAll {
    if ($Work) { Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue }
    Remove-Module PortQryTs -ErrorAction SilentlyContinue
}

Describe 'every cmdlet against the options of the command it wraps' {
    It 'the definition covers every exported cmdlet that runs the executable' {
        @($Options.Keys | Sort-Object) | Should -Be @('Get-PortOwner', 'Get-PortReporterStatistic', 'Import-PortReporterLog', 'Invoke-PortQuery', 'Test-PortQuery')
    }
    It '<Cmdlet>: every option it sends exists (complete)' -ForEach @(
        @{ Cmdlet = 'Invoke-PortQuery' }, @{ Cmdlet = 'Test-PortQuery' }, @{ Cmdlet = 'Get-PortOwner' }, @{ Cmdlet = 'Import-PortReporterLog' }, @{ Cmdlet = 'Get-PortReporterStatistic' }
    ) {
        $spec = $Options[$Cmdlet]
        $exe = Get-ExeOption $spec.Command
        $exe.Count | Should -BeGreaterThan 3
        foreach ($option in @($spec.Parameters.Values) + @($spec.Fixed)) { $exe | Should -Contain $option -Because "$Cmdlet sends $option to portqry-ts $($spec.Command)" }
    }
    It '<Cmdlet>: every option of the executable is a parameter, fixed, or not exposed for a stated reason' -ForEach @(
        @{ Cmdlet = 'Invoke-PortQuery' }, @{ Cmdlet = 'Test-PortQuery' }, @{ Cmdlet = 'Get-PortOwner' }, @{ Cmdlet = 'Import-PortReporterLog' }, @{ Cmdlet = 'Get-PortReporterStatistic' }
    ) {
        $spec = $Options[$Cmdlet]
        $pending = @(); if ($spec.ContainsKey('Pending')) { $pending = @($spec.Pending.Keys) }
        $covered = @($spec.Parameters.Values) + @($spec.Fixed) + @($spec.NotExposed.Keys) + $pending
        $exe = Get-ExeOption $spec.Command
        # A new option of the executable fails here until the module maps it or says why not.
        foreach ($option in $exe) { $covered | Should -Contain $option -Because "portqry-ts $($spec.Command) has $option" }
        # No stale entries: what is listed as not exposed still exists.
        foreach ($option in $spec.NotExposed.Keys) { $exe | Should -Contain $option -Because "$Cmdlet lists $option as not exposed" }
        foreach ($reason in $spec.NotExposed.Values) { $reason | Should -Not -BeNullOrEmpty }
    }
    It '<Cmdlet>: every parameter is mapped to an option or module-only, and every mapping is a parameter' -ForEach @(
        @{ Cmdlet = 'Invoke-PortQuery' }, @{ Cmdlet = 'Test-PortQuery' }, @{ Cmdlet = 'Get-PortOwner' }, @{ Cmdlet = 'Import-PortReporterLog' }, @{ Cmdlet = 'Get-PortReporterStatistic' }
    ) {
        $spec = $Options[$Cmdlet]
        $parameters = @((Get-Command $Cmdlet).Parameters.Keys | Where-Object { $Common -notcontains $_ })
        $declared = @($spec.Parameters.Keys) + @($spec.ModuleOnly)
        @($parameters | Sort-Object) | Should -Be @($declared | Sort-Object -Unique)
    }
    It '<Cmdlet> -<Parameter>: ValidateSet values are values the executable completes' -ForEach @(
        @{ Cmdlet = 'Invoke-PortQuery'; Parameter = 'Protocol' }, @{ Cmdlet = 'Import-PortReporterLog'; Parameter = 'Protocol' }, @{ Cmdlet = 'Get-PortReporterStatistic'; Parameter = 'Protocol' }
    ) {
        $spec = $Options[$Cmdlet]
        $values = @(& $Exe complete --new-word -- $spec.Command $spec.Parameters[$Parameter])
        $values.Count | Should -BeGreaterThan 0
        $set = (Get-Command $Cmdlet).Parameters[$Parameter].Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
        foreach ($v in $set.ValidValues) { $values | Should -Contain $v.ToLowerInvariant() }
    }
}

Describe 'the executable accepts everything the module sends' {
    It 'Invoke-PortQuery with every mapped parameter runs (no usage error)' {
        $r = Invoke-PortQuery 127.0.0.1 -Port 1 -Protocol TCP -TimeoutMs 500 -Retries 1 -Concurrency 4 -SlowLink -Probe http -NoReverseLookup -ErrorAction SilentlyContinue -ErrorVariable errs
        @($errs | Where-Object { $_.FullyQualifiedErrorId -like 'PortQryTs.ExitCode64*' }) | Should -BeNullOrEmpty -Because ($errs -join '; ')
        $r = Invoke-PortQuery 127.0.0.1 -Preset ad -NoProbe -NoReverseLookup -TimeoutMs 300 -ErrorAction Stop
        @($r).Count | Should -BeGreaterThan 3
    }
    It 'Import-PortReporterLog and Get-PortReporterStatistic with every mapped parameter run (no usage error)' {
        $criteria = Join-Path $Fixtures 'criteria/criteria.json'
        $all = @{
            Path = $Fixtures; ComputerName = 'SRV01'; UtcOffset = '+00:00'; Protocol = 'TCP'; Port = 1, 2; LocalPort = 3; RemotePort = 4
            ProcessName = 'svchost.exe'; Module = 'ws2_32.dll'; IPAddress = '192.0.2.0/24'; UserName = 'NT AUTHORITY\SYSTEM'; HostName = 'example.invalid'
            Since = [datetime]'2005-01-01'; Until = [datetime]'2030-01-01'; Criteria = $criteria; FlaggedOnly = $true; Resolve = $true; ResolveTimeoutMs = 100; Strict = $true
        }
        $null = Import-PortReporterLog @all -ErrorAction Stop
        $null = Get-PortReporterStatistic @all -Statistic process-usage -PerComputer -Top 3 -ErrorAction Stop
    }
    It 'Get-PortOwner runs record --once (owner records only), with modules only when asked' {
        $log = Join-Path $Work 'args.txt'
        $fake = Join-Path $Work 'fake-exe'
        Set-Content -LiteralPath $fake -Value "#!/bin/sh`necho `"`$*`" >> '$log'"
        & chmod 755 $fake
        $env:PORTQRY_TS_EXE = $fake
        try { Get-PortOwner; Get-PortOwner -IncludeModules } finally { Remove-Item Env:PORTQRY_TS_EXE }
        Get-Content -LiteralPath $log | Should -Be @('record --once --no-modules --format jsonl', 'record --once --modules --format jsonl')
    }
    It 'many inputs go through --inputs-file, and give what the folder gives' {
        $files = @(Get-ChildItem -LiteralPath $Fixtures -Recurse -File -Filter 'PR-*' | Select-Object -ExpandProperty FullName)
        $files.Count | Should -BeGreaterThan 1
        # 60 names (the list repeats): beyond the module's command-line limit of 50.
        $many = @(); while ($many.Count -lt 60) { $many += $files }
        $log = Join-Path $Work 'args2.txt'
        $fake = Join-Path $Work 'fake-exe2'
        Set-Content -LiteralPath $fake -Value "#!/bin/sh`necho `"`$*`" >> '$log'"
        & chmod 755 $fake
        $env:PORTQRY_TS_EXE = $fake
        try { $null = Import-PortReporterLog $many } finally { Remove-Item Env:PORTQRY_TS_EXE }
        (Get-Content -LiteralPath $log) | Should -Match '^parse --inputs-file \S+ --format jsonl$'
        $viaList = @($many | Import-PortReporterLog -ErrorAction Stop)
        $direct = @(Import-PortReporterLog $files -ErrorAction Stop)
        $viaList.Count | Should -Be ($direct.Count * $many.Count / $files.Count)
    }
}
