import { greetingProbe } from './banner';

/** POP3 greeting (`+OK …`), as PortQry reads it. */
export default greetingProbe({ name: 'pop3', label: 'POP3', ports: [110], style: 'line' });
