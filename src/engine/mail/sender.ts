// Sending mail: SMTP through nodemailer when `_config` backend `mail.smtp.url` is set (smtp://user:pass@host:587),
// otherwise a log sender that writes each message to the server log, so flows that mail a code stay testable.
import type { Transporter } from "nodemailer";

export interface MailMessage {
  to: string;
  from?: string;
  subject: string;
  text: string;
}

export interface MailSender {
  send(message: MailMessage): Promise<void>;
}

const DEFAULT_FROM = "no-reply@localhost";

export class LogMailSender implements MailSender {
  constructor(private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {}

  async send(m: MailMessage): Promise<void> {
    this.log(`MAIL to=${m.to} from=${m.from ?? DEFAULT_FROM} subject=${JSON.stringify(m.subject)} text=${JSON.stringify(m.text)}`);
  }
}

class SmtpMailSender implements MailSender {
  private transport: Transporter | undefined;

  constructor(private readonly url: string) {}

  async send(m: MailMessage): Promise<void> {
    // nodemailer is loaded on the first mail, not at start.
    this.transport ??= (await import("nodemailer")).default.createTransport(this.url);
    await this.transport.sendMail({ from: m.from ?? DEFAULT_FROM, to: m.to, subject: m.subject, text: m.text });
  }
}

export function mailSenderFor(smtpUrl: string | undefined): MailSender {
  return smtpUrl ? new SmtpMailSender(smtpUrl) : new LogMailSender();
}
