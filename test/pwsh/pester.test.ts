import { runPesterFiles } from './pester-runner';

// Every Pester file but the remoting one (pester-remoting.test.ts): the executable from PowerShell, the
// module, 5.1 compatibility, the parameters against the executable's options.
runPesterFiles((file) => file !== 'remoting.Tests.ps1');
