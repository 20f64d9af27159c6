# Windows PowerShell 5.1 = PowerShell 7, as far as it can be shown without Windows PowerShell: no syntax
# or parameter newer than 5.1 in the module, the manifest says 5.1/Desktop/Core, dates converted by the
# module from strings (5.1's ConvertFrom-Json leaves them strings: PowerShell#13592), views for
# Deserialized objects, completion without empty native arguments (PowerShell#1995), and every cmdlet
# under ConstrainedLanguage (a child pwsh that switches its language mode before importing the module).
BeforeAll {
    $Root = (Resolve-Path "$PSScriptRoot/../..").Path
    $ModuleDir = Join-Path $Root 'dist/PortQryTs'
    $Schemas = Join-Path $Root 'schemas'
    Remove-Item Env:PORTQRY_TS_EXE -ErrorAction SilentlyContinue
    Import-Module (Join-Path $ModuleDir 'PortQryTs.psd1') -Force
    $Module = Get-Module PortQryTs

    # PowerShell 6+/7+ constructs, found in the AST of a script. Returns "line: what" strings.
    function Find-NewerThan51([string]$Text) {
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($Text, [ref]$tokens, [ref]$errors)
        if ($errors) { foreach ($e in $errors) { "$($e.Extent.StartLineNumber): parse error $($e.Message)" } }
        # Commands and parameters that Windows PowerShell 5.1 does not have.
        $newCommands = @('Test-Json', 'Get-Error', 'Join-String', 'Get-Uptime', 'ConvertFrom-Markdown', 'Show-Markdown', 'Remove-Alias', 'Remove-Service', 'Get-PSSubsystem', 'Enable-ExperimentalFeature')
        $newParameters = @{
            'ForEach-Object' = @('Parallel', 'ThrottleLimit', 'AsJob', 'TimeoutSeconds', 'UseNewRunspace')
            'ConvertFrom-Json' = @('AsHashtable', 'Depth', 'NoEnumerate', 'DateKind')
            'ConvertTo-Json' = @('AsArray', 'EnumsAsStrings', 'EscapeHandling')
            'Get-Content' = @('AsByteStream'); 'Set-Content' = @('AsByteStream'); 'Add-Content' = @('AsByteStream')
            'Join-Path' = @('AdditionalChildPath'); 'Split-Path' = @('LeafBase', 'Extension')
            'Select-String' = @('Raw', 'NoEmphasis'); 'Test-Connection' = @('TargetName', 'TcpPort')
            'Invoke-WebRequest' = @('SkipCertificateCheck', 'SslProtocol', 'Authentication', 'SkipHttpErrorCheck')
            'Invoke-RestMethod' = @('SkipCertificateCheck', 'SslProtocol', 'Authentication', 'SkipHttpErrorCheck')
            'Invoke-Command' = @('HostName', 'SSHTransport', 'KeyFilePath', 'SSHConnection', 'Subsystem')
            'New-PSSession' = @('HostName', 'SSHTransport', 'KeyFilePath', 'SSHConnection', 'Subsystem')
            'Get-ChildItem' = @('FollowSymlink'); 'Select-Object' = @('SkipIndex'); 'Sort-Object' = @('Top', 'Bottom')
            'Start-Process' = @('Environment'); 'Get-Date' = @('AsUTC', 'FromUnixTime')
        }
        $newEncodings = @('utf8NoBOM', 'utf8BOM', 'ansi')
        $newVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle', 'PSNativeCommandArgumentPassing', 'PSNativeCommandUseErrorActionPreference')
        $nodes = $ast.FindAll({ $true }, $true)
        foreach ($n in $nodes) {
            $line = $n.Extent.StartLineNumber
            $type = $n.GetType().Name
            if ($type -eq 'TernaryExpressionAst') { "${line}: ternary ?:" }
            if ($type -eq 'PipelineChainAst') { "${line}: pipeline chain && / ||" }
            if ($type -eq 'BinaryExpressionAst' -and [string]$n.Operator -eq 'QuestionQuestion') { "${line}: ??" }
            if ($type -eq 'AssignmentStatementAst' -and [string]$n.Operator -eq 'QuestionQuestionEquals') { "${line}: ??=" }
            if ($type -in 'MemberExpressionAst', 'InvokeMemberExpressionAst', 'IndexExpressionAst' -and $n.PSObject.Properties['NullConditional'] -and $n.NullConditional) { "${line}: ?. or ?[]" }
            if ($type -eq 'PipelineAst' -and $n.PSObject.Properties['Background'] -and $n.Background) { "${line}: background operator &" }
            if ($type -eq 'ScriptBlockAst' -and $n.PSObject.Properties['CleanBlock'] -and $n.CleanBlock) { "${line}: clean block" }
            if ($type -eq 'VariableExpressionAst' -and $newVariables -contains $n.VariablePath.UserPath) { "${line}: `$$($n.VariablePath.UserPath)" }
            if ($type -eq 'CommandAst') {
                $name = $n.GetCommandName()
                if (-not $name) { continue }
                if ($newCommands -contains $name) { "${line}: $name" }
                $parameters = @($n.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] } | ForEach-Object { $_.ParameterName })
                foreach ($key in $newParameters.Keys) {
                    if ($name -ne $key) { continue }
                    $known = @((Get-Command $name).Parameters.Keys)
                    foreach ($p in $parameters) {
                        # Unambiguous prefixes bind too (-Para for -Parallel), but -Skip is Select-Object -Skip.
                        if ($known -contains $p -and $newParameters[$key] -notcontains $p) { continue }
                        foreach ($newer in $newParameters[$key]) { if ($p.Length -ge 3 -and $newer.StartsWith($p, 'OrdinalIgnoreCase')) { "${line}: $name -$newer" } }
                    }
                }
                if ($name -eq 'Join-Path') {
                    $positional = @($n.CommandElements | Select-Object -Skip 1 | Where-Object { $_ -isnot [System.Management.Automation.Language.CommandParameterAst] })
                    $named = @($n.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] -and $null -eq $_.Argument }).Count
                    if ($positional.Count - $named -gt 2) { "${line}: Join-Path with more than two paths" }
                }
                $elements = @($n.CommandElements)
                for ($i = 0; $i -lt $elements.Count - 1; $i++) {
                    if ($elements[$i] -is [System.Management.Automation.Language.CommandParameterAst] -and $elements[$i].ParameterName -eq 'Encoding') {
                        $value = if ($elements[$i].Argument) { $elements[$i].Argument.Extent.Text } else { $elements[$i + 1].Extent.Text }
                        if ($newEncodings -contains $value.Trim("'", '"')) { "${line}: -Encoding $value" }
                    }
                }
            }
        }
    }
    function Get-DateTimeNames($Schema) {
        # Property names declared "format": "date-time", at any depth of the schema.
        if ($Schema -is [System.Collections.IDictionary]) {
            if ($Schema['properties']) {
                foreach ($key in $Schema['properties'].Keys) {
                    $p = $Schema['properties'][$key]
                    if ($p -is [System.Collections.IDictionary] -and $p['format'] -eq 'date-time') { $key }
                    if ($p -is [System.Collections.IDictionary] -and $p['anyOf']) { foreach ($alt in $p['anyOf']) { if ($alt['format'] -eq 'date-time') { $key } } }
                    if ($p -is [System.Collections.IDictionary] -and $p['oneOf']) { foreach ($alt in $p['oneOf']) { if ($alt['format'] -eq 'date-time') { $key } } }
                }
            }
            foreach ($key in $Schema.Keys) { if ($key -ne 'properties') { Get-DateTimeNames $Schema[$key] } }
            if ($Schema['properties']) { foreach ($key in $Schema['properties'].Keys) { Get-DateTimeNames $Schema['properties'][$key] } }
        } elseif ($Schema -is [System.Collections.IList]) {
            foreach ($item in $Schema) { Get-DateTimeNames $item }
        }
    }
    $Listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $Listener.Start()
    $Port = $Listener.LocalEndpoint.Port
    $Work = Join-Path ([System.IO.Path]::GetTempPath()) ("portqry-ts-compat-" + [guid]::NewGuid())
    New-Item -ItemType Directory -Path $Work | Out-Null
}
AfterAll {
    if ($Listener) { $Listener.Stop() }
    if ($Work) { Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue }
    Remove-Module PortQryTs -ErrorAction SilentlyContinue
}

Describe 'no PowerShell 6+/7+ syntax or parameters in the module' {
    It 'the checker finds each construct it looks for (so a clean result means something)' {
        $sample = @(
            '$a = $b ? 1 : 2'
            'cmd1 && cmd2'
            '$a = $b ?? 3'
            '$a ??= 4'
            '${a}?.Name'
            '1..3 | ForEach-Object -Parallel { $_ }'
            '$j | ConvertFrom-Json -AsHashtable'
            'Get-Content x -AsByteStream'
            'Join-Path a b c'
            'Set-Content x -Encoding utf8NoBOM -Value 1'
            'if ($IsWindows) { }'
            'Test-Json -Json x'
            'Start-Sleep 1 &'
        ) -join "`n"
        $found = @(Find-NewerThan51 $sample)
        $found.Count | Should -BeGreaterOrEqual 13
        foreach ($line in 1..13) { @($found | Where-Object { $_ -like "${line}:*" }).Count | Should -BeGreaterThan 0 -Because "line $line of the sample" }
        @(Find-NewerThan51 'Join-Path $a $b; Get-Content -Raw x | ConvertFrom-Json; if ($a) { 1 } else { 2 }') | Should -BeNullOrEmpty
    }
    It '<Name> has none' -ForEach @(
        @{ Name = 'PortQryTs.psm1' }, @{ Name = 'PortQryTs.psd1' }
    ) {
        $found = @(Find-NewerThan51 (Get-Content -Raw -LiteralPath (Join-Path $ModuleDir $Name)))
        $found -join "`n" | Should -BeNullOrEmpty
    }
    It 'the manifest says PowerShellVersion 5.1 and CompatiblePSEditions Desktop, Core' {
        $manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $ModuleDir 'PortQryTs.psd1')
        $manifest.PowerShellVersion | Should -Be '5.1'
        @($manifest.CompatiblePSEditions) | Should -Be @('Desktop', 'Core')
        (Test-ModuleManifest -Path (Join-Path $ModuleDir 'PortQryTs.psd1')).ExportedFunctions.Keys | Should -Contain 'Install-PortQryTs'
    }
}

Describe 'dates: the module converts them, so 5.1 and 7 give the same [datetime] (UTC)' {
    It 'the module''s lists name exactly the date-time properties of the schemas' {
        $top = @(); $probe = @()
        foreach ($file in Get-ChildItem -LiteralPath $Schemas -Filter '*.schema.json') {
            $names = @(Get-DateTimeNames (Get-Content -Raw -LiteralPath $file.FullName | ConvertFrom-Json -AsHashtable))
            if ($file.Name -like 'probe-data-*') { $probe += $names } else { $top += $names }
        }
        $top.Count | Should -BeGreaterThan 0
        $probe.Count | Should -BeGreaterThan 0
        @(& $Module { $script:DateProperties } | Sort-Object) | Should -Be @($top | Sort-Object -Unique)
        @(& $Module { $script:ProbeDateProperties } | Sort-Object) | Should -Be @($probe | Sort-Object -Unique)
    }
    It 'this PowerShell (7.5+) reads JSON with dates left as strings, as 5.1 does, and the module converts them' {
        & $Module { $script:JsonDateKind } | Should -Be $true
        $line = '{"ComputerName":"a","TimeUtc":"2026-12-04T09:15:30.125Z","ProbeData":{"NotBefore":"2026-01-01T00:00:00.000Z","Subject":"2026-01-01T00:00:00.000Z"},"Other":"2026-02-02T00:00:00Z"}'
        ($line | ConvertFrom-Json -DateKind String).TimeUtc | Should -BeOfType [string]
        $r = & $Module { param($l) ConvertFrom-PortQryTsJson $l } $line
        $r.TimeUtc | Should -BeOfType [datetime]
        $r.TimeUtc.Kind | Should -Be 'Utc'
        $r.TimeUtc | Should -Be ([datetime]::SpecifyKind([datetime]'2026-12-04T09:15:30.125', 'Utc'))
        $r.ProbeData.NotBefore | Should -BeOfType [datetime]
        $r.ProbeData.NotBefore.Kind | Should -Be 'Utc'
        # Only date-time properties: a date-shaped string elsewhere stays a string (as 5.1 leaves it).
        $r.ProbeData.Subject | Should -BeOfType [string]
        $r.Other | Should -BeOfType [string]
    }
    It 'strings (5.1, 7.5+ with -DateKind String) and 7.0-7.4''s own [datetime] end up the same' {
        $line = '{"TimeUtc":"2026-12-04T09:15:30.125Z","ProcessStartTime":null,"FirstSeenUtc":"2026-12-04T00:00:00.000Z"}'
        $fromStrings = & $Module { param($l) ConvertTo-PortQryTsRecord ($l | ConvertFrom-Json -DateKind String) } $line
        $fromDates = & $Module { param($l) ConvertTo-PortQryTsRecord ($l | ConvertFrom-Json) } $line
        $fromLocal = & $Module { param($l) ConvertTo-PortQryTsRecord ($l | ConvertFrom-Json -DateKind Local) } $line
        foreach ($r in $fromStrings, $fromDates, $fromLocal) {
            $r.TimeUtc.Kind | Should -Be 'Utc'
            $r.TimeUtc | Should -Be $fromStrings.TimeUtc
            $r.FirstSeenUtc | Should -Be $fromStrings.FirstSeenUtc
            $r.ProcessStartTime | Should -BeNullOrEmpty
        }
        # The comparison that compared strings in 5.1 before: now a date comparison.
        ($fromStrings.TimeUtc -gt [datetime]::SpecifyKind([datetime]'2026-12-04T09:00:00', 'Utc')) | Should -Be $true
    }
    It 'every cmdlet''s date properties are UTC [datetime]' {
        $q = Invoke-PortQuery 127.0.0.1 -Port $Port -NoReverseLookup
        $q.TimeUtc | Should -BeOfType [datetime]
        $q.TimeUtc.Kind | Should -Be 'Utc'
        $o = @(Get-PortOwner -LocalPort $Port -Protocol TCP)[0]
        $o.ProcessStartTime | Should -BeOfType [datetime]
        $o.ProcessStartTime.Kind | Should -Be 'Utc'
        $logs = Join-Path $Work 'logs'
        New-Item -ItemType Directory -Path $logs | Out-Null
        & (Get-PortQryTsExecutable) record --log-dir $logs --duration 1s --no-modules
        $p = @(Import-PortReporterLog $logs)[0]
        $p.TimeUtc.Kind | Should -Be 'Utc'
        $s = @(Get-PortReporterStatistic $logs -Statistic process-usage)[0]
        $s.FirstSeenUtc | Should -BeOfType [datetime]
        $s.FirstSeenUtc.Kind | Should -Be 'Utc'
    }
}

Describe 'objects that come back through remoting (Deserialized.PortQryTs.*) use the same views' {
    It '<Type> has a view for its Deserialized type name that formats like the live object' -ForEach @(
        @{ Type = 'PortQryTs.QueryResult' }, @{ Type = 'PortQryTs.PortOwner' }, @{ Type = 'PortQryTs.PortReporterRecord' }
    ) {
        (Get-FormatData -TypeName "Deserialized.$Type").TypeNames | Should -Contain "Deserialized.$Type"
        $live = switch ($Type) {
            'PortQryTs.QueryResult' { Invoke-PortQuery 127.0.0.1 -Port $Port -NoReverseLookup }
            'PortQryTs.PortOwner' { @(Get-PortOwner -LocalPort $Port -Protocol TCP)[0] }
            'PortQryTs.PortReporterRecord' {
                $logs = Join-Path $Work 'view-logs'
                New-Item -ItemType Directory -Force -Path $logs | Out-Null
                & (Get-PortQryTsExecutable) record --log-dir $logs --duration 1s --no-modules
                @(Import-PortReporterLog $logs)[0]
            }
        }
        # What Invoke-Command does to an object: serialize, deserialize.
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($live))
        $copy.PSObject.TypeNames[0] | Should -Be "Deserialized.$Type"
        $a = ($live | Format-Table | Out-String -Width 300).Trim()
        $b = ($copy | Format-Table | Out-String -Width 300).Trim()
        $b | Should -Be $a
        ($b -split "`n")[0] | Should -Not -Match 'PSComputerName|CommandLine'
    }
}

Describe 'completion passes no empty native argument (5.1 drops it: PowerShell#1995)' {
    BeforeAll {
        $Fake = Join-Path $Work 'fake-exe'
        Set-Content -LiteralPath $Fake -Value "#!/bin/sh`nfor a in `"`$@`"; do echo `"[`$a]`"; done"
        & chmod 755 $Fake
    }
    It 'an empty word becomes --new-word, never ''''' {
        $env:PORTQRY_TS_EXE = $Fake
        try {
            $args1 = & $Module { Get-PortQryTsCompletion @('query', '--preset', '') }
            $args2 = & $Module { Get-PortQryTsCompletion @('query', '--pre') }
        } finally { Remove-Item Env:PORTQRY_TS_EXE }
        $args1 -join ' ' | Should -Be '[complete] [--new-word] [--] [query] [--preset]'
        $args2 -join ' ' | Should -Be '[complete] [--] [query] [--pre]'
    }
    It 'Tab after -Preset with nothing typed offers the presets, not the option name' {
        $line = 'Invoke-PortQuery dc01 -Preset '
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $offered | Should -Contain 'ad'
        $offered | Should -Not -Contain '--preset'
    }
}

Describe 'ConstrainedLanguage (AppLocker/WDAC): every cmdlet works' {
    BeforeAll {
        # __PSLockdownPolicy has no effect outside Windows: the child switches its own language mode before
        # importing the module, so the module's functions run in ConstrainedLanguage.
        $logs = Join-Path $Work 'clm-logs'
        New-Item -ItemType Directory -Path $logs | Out-Null
        & (Get-PortQryTsExecutable) record --log-dir $logs --duration 1s --no-modules
        $pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source
        $out = & $pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'clm-child.ps1') -Module (Join-Path $ModuleDir 'PortQryTs.psd1') -Port $Port -LogDir $logs 2>&1
        $Clm = ($out | Select-Object -Last 1) | ConvertFrom-Json
        $ClmOutput = $out -join "`n"
    }
    It 'the module ran in ConstrainedLanguage' {
        $Clm.LanguageMode | Should -Be 'ConstrainedLanguage' -Because $ClmOutput
    }
    It '<Name> works' -ForEach @(
        @{ Name = 'Invoke-PortQuery' }, @{ Name = 'Test-PortQuery' }, @{ Name = 'Get-PortOwner' },
        @{ Name = 'Import-PortReporterLog' }, @{ Name = 'Get-PortReporterStatistic' }, @{ Name = 'Get-PortQryTsExecutable' }
    ) {
        $r = $Clm.Results.$Name
        $r.Error | Should -BeNullOrEmpty -Because $ClmOutput
        $r.Count | Should -BeGreaterThan 0
        if ($r.TypeName) { $r.TypeName | Should -BeLike 'PortQryTs.*' }
        if ($r.DateKind) { $r.DateKind | Should -Be 'Utc' }
    }
    It 'an executable error is still one error record with the exit code in its ErrorId' {
        $Clm.Results.Error68.ErrorId | Should -BeLike 'PortQryTs.ExitCode68*'
        $Clm.Results.Error68.Count | Should -Be 1
    }
}
