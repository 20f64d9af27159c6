# The executable as PowerShell users call it: & portqry-ts ... | ConvertFrom-Json, Import-Csv,
# $LASTEXITCODE, stderr, native tab completion. Runs dist/portqry-ts (the standalone Linux build).
BeforeAll {
    $Root = (Resolve-Path "$PSScriptRoot/../..").Path
    $Exe = Join-Path $Root 'dist/portqry-ts'
    $Schemas = Join-Path $Root 'schemas'
    function Get-SchemaKeys([string]$Name) {
        @((Get-Content -Raw (Join-Path $Schemas $Name) | ConvertFrom-Json).properties.PSObject.Properties.Name)
    }
    $Listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $Listener.Start()
    $Port = $Listener.LocalEndpoint.Port
    $Closed = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $Closed.Start(); $ClosedPort = $Closed.LocalEndpoint.Port; $Closed.Stop()
    $Work = Join-Path ([System.IO.Path]::GetTempPath()) ("portqry-ts-pwsh-" + [guid]::NewGuid())
    New-Item -ItemType Directory -Path $Work | Out-Null
}
AfterAll {
    $Listener.Stop()
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'portqry-ts query --json | ConvertFrom-Json' {
    It 'yields one object with exactly the schema''s properties, in order, valid by Test-Json' {
        $lines = & $Exe query -n 127.0.0.1 -e $Port --json
        $LASTEXITCODE | Should -Be 0
        $objects = @($lines | ConvertFrom-Json)
        $objects.Count | Should -Be 1
        $objects[0].PSObject.Properties.Name | Should -Be (Get-SchemaKeys 'query-result.schema.json')
        $objects[0].State | Should -Be 'LISTENING'
        $objects[0].RemotePort | Should -Be $Port
        $objects[0].TimeUtc | Should -BeOfType [datetime]
        $schema = Get-Content -Raw (Join-Path $Schemas 'query-result.schema.json')
        $lines | ForEach-Object { Test-Json -Json $_ -Schema $schema } | Should -Be $true
    }
    It 'a port range arrives complete through the pipeline (far beyond one pipe buffer)' {
        $objects = @(& $Exe query -n 127.0.0.1 -r 1:2000 --no-reverse-lookup --json | ConvertFrom-Json)
        $objects.Count | Should -Be 2000
        ($objects | Select-Object -ExpandProperty RemotePort) | Should -Be (1..2000)
    }
}

Describe '$LASTEXITCODE is what README says' {
    It '<Case>: <Code>' -ForEach @(
        @{ Case = 'LISTENING'; Arguments = @('query', '-n', '127.0.0.1', '-e', '{port}'); Code = 0 }
        @{ Case = 'NOT LISTENING'; Arguments = @('query', '-n', '127.0.0.1', '-e', '{closed}'); Code = 1 }
        @{ Case = 'usage error'; Arguments = @('query', '-n', '127.0.0.1', '-e', '70000'); Code = 64 }
        @{ Case = 'name does not resolve'; Arguments = @('query', '-n', 'no-such-host.invalid', '-e', '80'); Code = 68 }
        @{ Case = 'input file missing'; Arguments = @('parse', '/nonexistent/portqry-ts/logs'); Code = 66 }
    ) {
        $actual = $Arguments | ForEach-Object { $_ -replace '\{port\}', $Port -replace '\{closed\}', $ClosedPort }
        $null = & $Exe @actual --json 2>$null
        $LASTEXITCODE | Should -Be $Code
    }
}

Describe 'stderr' {
    It 'is empty when a command succeeds, even with 2>&1 (no NativeCommandError records)' {
        foreach ($arguments in @(@('--version'), @('query', '-n', '127.0.0.1', '-e', "$Port", '--json'), @('query', '-n', '127.0.0.1', '-e', "$Port", '--format', 'table'))) {
            $all = & $Exe @arguments 2>&1
            @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) | Should -BeNullOrEmpty -Because ($arguments -join ' ')
        }
    }
    It 'holds exactly one line naming the bad value on a usage error, and stdout stays empty' {
        $errFile = Join-Path $Work 'err.txt'
        $out = & $Exe query -n 127.0.0.1 -e 70000 2>$errFile
        $out | Should -BeNullOrEmpty
        $err = @(Get-Content -LiteralPath $errFile)
        $err.Count | Should -Be 1
        $err[0] | Should -Match '70000'
    }
}

Describe 'CSV for Excel: --format csv --out-file, read back by Import-Csv' {
    It 'has the same values as the JSON' {
        $csv = Join-Path $Work 'q.csv'
        & $Exe query -n 127.0.0.1 -o "$Port,$ClosedPort" --no-reverse-lookup --format csv --out-file $csv
        $json = @(& $Exe query -n 127.0.0.1 -o "$Port,$ClosedPort" --no-reverse-lookup --json | ConvertFrom-Json)
        $bytes = [System.IO.File]::ReadAllBytes($csv)
        $bytes[0..2] | Should -Be @(0xEF, 0xBB, 0xBF)
        $rows = @(Import-Csv -LiteralPath $csv)
        $rows.Count | Should -Be 2
        $rows[0].PSObject.Properties.Name | Should -Be (Get-SchemaKeys 'query-result.schema.json')
        for ($i = 0; $i -lt 2; $i++) {
            foreach ($key in 'ComputerName', 'RemoteAddress', 'Protocol', 'RemotePort', 'State', 'Reason', 'Attempts') {
                $rows[$i].$key | Should -Be ([string]$json[$i].$key) -Because "row $i $key"
            }
        }
    }
}

Describe 'non-ASCII survives the trip (é, 中)' {
    BeforeAll {
        # A real log folder whose name carries é and 中: `record` writes it, `parse` reads it back, and
        # every record names its SourceFile.
        $LogDir = Join-Path $Work 'journaux-é-中'
        New-Item -ItemType Directory -Path $LogDir | Out-Null
        & $Exe record --log-dir $LogDir --duration 2s --no-modules
    }
    It 'in JSON: \u escapes on the wire, exact text after ConvertFrom-Json' {
        $lines = @(& $Exe parse $LogDir --json)
        $LASTEXITCODE | Should -Be 0
        $lines.Count | Should -BeGreaterThan 0
        $lines[0] | Should -Match '\\u00e9'
        $lines[0] | Should -Match '\\u4e2d'
        $lines[0] | Should -Not -Match '[^\x00-\x7f]'
        $records = @($lines | ConvertFrom-Json)
        $records[0].SourceFile | Should -BeLike "*journaux-é-中*"
        $schema = Get-Content -Raw (Join-Path $Schemas 'port-reporter-record.schema.json')
        Test-Json -Json $lines[0] -Schema $schema | Should -Be $true
    }
    It 'in CSV: UTF-8 with BOM, Import-Csv reads the same text' {
        $csv = Join-Path $Work 'é-中.csv'
        & $Exe parse $LogDir --format csv --out-file $csv
        $LASTEXITCODE | Should -Be 0
        $rows = @(Import-Csv -LiteralPath $csv)
        $rows[0].SourceFile | Should -BeLike "*journaux-é-中*"
    }
}

Describe 'native tab completion of the bare executable (Register-ArgumentCompleter -Native from the module)' {
    BeforeAll {
        Import-Module (Join-Path $Root 'dist/PortQryTs/PortQryTs.psd1') -Force
        $env:PATH = (Join-Path $Root 'dist') + [System.IO.Path]::PathSeparator + $env:PATH
    }
    It 'completes <Line> with <Expected>' -ForEach @(
        @{ Line = 'portqry-ts qu'; Expected = 'query' }
        @{ Line = 'portqry-ts query --pre'; Expected = '--preset' }
        @{ Line = 'portqry-ts query --preset a'; Expected = 'ad' }
        @{ Line = 'portqry-ts query --format '; Expected = 'jsonl' }
        @{ Line = 'portqry-ts stats --statistic svc'; Expected = 'svchost' }
    ) {
        $matches = (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText
        $matches | Should -Contain $Expected
    }
}
