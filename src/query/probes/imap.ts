import { greetingProbe } from './banner';

/** IMAP4 greeting (`* OK [CAPABILITY …] …`), as PortQry reads it. */
export default greetingProbe({ name: 'imap', label: 'IMAP', ports: [143], style: 'line' });
