import { greetingProbe } from './banner';

/** SMTP greeting (`220 host ESMTP …`), as PortQry reads it. */
export default greetingProbe({ name: 'smtp', label: 'SMTP', ports: [25, 587], style: 'numeric' });
