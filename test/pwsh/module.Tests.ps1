# The PortQryTs module as shipped (dist/PortQryTs beside dist/portqry-ts): typed objects matching the
# schemas, pipeline input, errors and -ErrorAction, streaming.
BeforeAll {
    $Root = (Resolve-Path "$PSScriptRoot/../..").Path
    $Schemas = Join-Path $Root 'schemas'
    Remove-Item Env:PORTQRY_TS_EXE -ErrorAction SilentlyContinue
    Import-Module (Join-Path $Root 'dist/PortQryTs/PortQryTs.psd1') -Force
    function Get-SchemaKeys([string]$Name) {
        @((Get-Content -Raw (Join-Path $Schemas $Name) | ConvertFrom-Json).properties.PSObject.Properties.Name)
    }
    function Test-AgainstSchema($Object, [string]$Name) {
        # ConvertFrom-Json turned ISO times into [datetime]; back to the wire form before validating.
        $json = $Object | Select-Object -Property (Get-SchemaKeys $Name) | ConvertTo-Json -Depth 6 -Compress
        $json = [regex]::Replace($json, '"\\/Date\((\d+)\)\\/"', { param($m) '"' + [DateTimeOffset]::FromUnixTimeMilliseconds([long]$m.Groups[1].Value).UtcDateTime.ToString('yyyy-MM-ddTHH:mm:ss.fffZ') + '"' })
        Test-Json -Json $json -Schema (Get-Content -Raw (Join-Path $Schemas $Name))
    }
    $Listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $Listener.Start()
    $Port = $Listener.LocalEndpoint.Port
    $Work = Join-Path ([System.IO.Path]::GetTempPath()) ("portqry-ts-module-" + [guid]::NewGuid())
    New-Item -ItemType Directory -Path $Work | Out-Null
}
AfterAll {
    $Listener.Stop()
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Module PortQryTs -ErrorAction SilentlyContinue
}

Describe 'the module' {
    It 'finds the executable beside it' {
        Get-PortQryTsExecutable | Should -Be (Join-Path $Root 'dist/portqry-ts')
    }
    It 'exports the five cmdlets' {
        $names = (Get-Command -Module PortQryTs).Name
        foreach ($n in 'Invoke-PortQuery', 'Test-PortQuery', 'Get-PortOwner', 'Import-PortReporterLog', 'Get-PortReporterStatistic') { $names | Should -Contain $n }
    }
}

Describe 'Invoke-PortQuery / Test-PortQuery' {
    It 'emits PortQryTs.QueryResult objects with the schema''s properties' {
        $r = @(Invoke-PortQuery -ComputerName 127.0.0.1 -Port $Port -NoReverseLookup)
        $r.Count | Should -Be 1
        $r[0].PSObject.TypeNames[0] | Should -Be 'PortQryTs.QueryResult'
        $r[0].PSObject.Properties.Name | Should -Be (Get-SchemaKeys 'query-result.schema.json')
        $r[0].State | Should -Be 'LISTENING'
        Test-AgainstSchema $r[0] 'query-result.schema.json' | Should -Be $true
    }
    It 'takes host names from the pipeline and checks them in one run' {
        $r = @('127.0.0.1', 'localhost' | Invoke-PortQuery -Port $Port, 1)
        $r.Count | Should -Be 4
        ($r | Select-Object -ExpandProperty ComputerName -Unique) | Should -Be @('127.0.0.1', 'localhost')
        @($r | Where-Object RemotePort -eq 1 | Select-Object -ExpandProperty State -Unique) | Should -Be @('NOT LISTENING')
    }
    It 'takes objects with a ComputerName property from the pipeline' {
        $r = @([pscustomobject]@{ ComputerName = '127.0.0.1' } | Invoke-PortQuery -Port $Port)
        $r[0].ComputerName | Should -Be '127.0.0.1'
    }
    It 'NOT LISTENING is an answer, not an error' {
        $r = Invoke-PortQuery 127.0.0.1 -Port 1 -ErrorAction Stop -ErrorVariable errs
        $r.State | Should -Be 'NOT LISTENING'
        $errs | Should -BeNullOrEmpty
    }
    It 'Test-PortQuery -Quiet answers $true or $false' {
        Test-PortQuery 127.0.0.1 -Port $Port -Quiet | Should -Be $true
        Test-PortQuery 127.0.0.1 -Port $Port, 1 -Quiet | Should -Be $false
    }
    It 'a name that does not resolve is an error record carrying the exit code; -ErrorAction Stop throws it' {
        $r = Invoke-PortQuery no-such-host.invalid -Port 80 -ErrorAction SilentlyContinue -ErrorVariable errs
        $r | Should -BeNullOrEmpty
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PortQryTs.ExitCode68*'
        $errs[0].Exception.Data['ExitCode'] | Should -Be 68
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        { Invoke-PortQuery no-such-host.invalid -Port 80 -ErrorAction Stop } | Should -Throw '*Failed to resolve name*'
    }
    It 'validates parameters before running anything' {
        { Invoke-PortQuery 127.0.0.1 -Port 70000 } | Should -Throw
        { Invoke-PortQuery 127.0.0.1 -Protocol XYZ } | Should -Throw
    }
    It 'streams: the first object arrives while the executable is still scanning' {
        $stillRunning = $null
        Invoke-PortQuery 127.0.0.1 -Port (1..65535) -NoReverseLookup | Select-Object -First 1 | ForEach-Object {
            $stillRunning = @(Get-Process -Name portqry-ts -ErrorAction SilentlyContinue | Where-Object { $_.Parent.Id -eq $PID }).Count -gt 0
        }
        $stillRunning | Should -Be $true
        # Select-Object -First 1 stopped the pipeline: the scan was ended, not left running.
        Start-Sleep -Milliseconds 200
        @(Get-Process -Name portqry-ts -ErrorAction SilentlyContinue | Where-Object { $_.Parent.Id -eq $PID }).Count | Should -Be 0
    }
    It 'completes -Preset from the executable' {
        $line = 'Invoke-PortQuery dc01 -Preset a'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'ad'
    }
}

Describe 'Get-PortOwner' {
    It 'finds our own listener with this process as owner' {
        $r = @(Get-PortOwner -LocalPort $Port -Protocol TCP)
        $r.Count | Should -BeGreaterThan 0
        $r[0].PSObject.TypeNames[0] | Should -Be 'PortQryTs.PortOwner'
        $r[0].PSObject.Properties.Name | Should -Be (Get-SchemaKeys 'port-owner.schema.json')
        $r[0].OwningProcess | Should -Be $PID
        $r[0].State | Should -Be 'Listen'
        Test-AgainstSchema $r[0] 'port-owner.schema.json' | Should -Be $true
    }
}

Describe 'Import-PortReporterLog and Get-PortReporterStatistic over logs written by portqry-ts record' {
    BeforeAll {
        $LogDir = Join-Path $Work 'logs'
        New-Item -ItemType Directory -Path $LogDir | Out-Null
        & (Get-PortQryTsExecutable) record --log-dir $LogDir --duration 2s --no-modules
    }
    It 'Import-PortReporterLog: typed records valid against the schema' {
        $r = @(Import-PortReporterLog $LogDir)
        $r.Count | Should -BeGreaterThan 0
        $r[0].PSObject.TypeNames[0] | Should -Be 'PortQryTs.PortReporterRecord'
        $r[0].PSObject.Properties.Name | Should -Be (Get-SchemaKeys 'port-reporter-record.schema.json')
        Test-AgainstSchema $r[0] 'port-reporter-record.schema.json' | Should -Be $true
    }
    It 'Import-PortReporterLog: paths from Get-ChildItem, and a filter' {
        $all = @(Get-ChildItem -LiteralPath $LogDir | Import-PortReporterLog)
        $all.Count | Should -BeGreaterThan 0
        $tcp = @(Get-ChildItem -LiteralPath $LogDir | Import-PortReporterLog -Protocol TCP)
        @($tcp | Where-Object Protocol -ne 'TCP') | Should -BeNullOrEmpty
    }
    It 'Import-PortReporterLog: a missing folder is an error with exit code 66' {
        Import-PortReporterLog (Join-Path $Work 'nope') -ErrorAction SilentlyContinue -ErrorVariable errs
        $errs[0].Exception.Data['ExitCode'] | Should -Be 66
    }
    It 'Get-PortReporterStatistic: one type per statistic, each valid against its schema' {
        $r = @(Get-PortReporterStatistic $LogDir -Statistic process-usage, hour-of-day)
        $r.Count | Should -BeGreaterThan 0
        $kinds = $r | Group-Object Statistic
        ($kinds.Name | Sort-Object) | Should -Be @('PortUsageByHour', 'ProcessUsage')
        $usage = $r | Where-Object Statistic -eq 'ProcessUsage' | Select-Object -First 1
        $usage.PSObject.TypeNames | Should -Contain 'PortQryTs.Statistic.ProcessUsage'
        Test-AgainstSchema $usage 'stat-process-usage.schema.json' | Should -Be $true
    }
}
