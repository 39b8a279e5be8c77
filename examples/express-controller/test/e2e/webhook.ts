// The Alertmanager webhook receiver: records every notification so the test can wait for an
// alert to arrive (firing) and later to be resolved, with its receiver and labels.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait.js';

/** One alert of an Alertmanager webhook payload (version 4). */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint?: string;
}

/** The Alertmanager webhook payload (version 4). */
export interface WebhookPayload {
  version: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: WebhookAlert[];
}

/** An alert as received, with the receiver of the notification that carried it. */
export interface ReceivedAlert extends WebhookAlert {
  receiver: string;
  receivedAt: number;
  path: string;
}

export interface AlertMatch {
  alertname: string;
  status: 'firing' | 'resolved';
  /** Only alerts received at or after this time (ms since epoch). */
  since?: number;
  /** Extra labels the alert must carry. */
  labels?: Record<string, string>;
}

export interface WebhookRecorder {
  readonly url: string;
  readonly received: ReceivedAlert[];
  find(match: AlertMatch): ReceivedAlert | undefined;
  waitFor(match: AlertMatch, timeoutMs: number): Promise<ReceivedAlert>;
  /** One line per received alert: time, receiver, name, status, severity. */
  summary(): string;
  close(): Promise<void>;
}

export async function startWebhookRecorder(): Promise<WebhookRecorder> {
  const received: ReceivedAlert[] = [];
  const started = Date.now();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload;
        for (const alert of payload.alerts ?? []) {
          received.push({
            ...alert,
            receiver: payload.receiver,
            receivedAt: Date.now(),
            path: req.url ?? '/',
          });
        }
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const find = (match: AlertMatch) =>
    received.find(
      (alert) =>
        alert.labels.alertname === match.alertname &&
        alert.status === match.status &&
        alert.receivedAt >= (match.since ?? 0) &&
        Object.entries(match.labels ?? {}).every(([key, value]) => alert.labels[key] === value),
    );
  const summary = () =>
    received
      .map(
        (a) =>
          `+${((a.receivedAt - started) / 1000).toFixed(1)}s ${a.receiver} ${a.labels.alertname} ${a.status} severity=${a.labels.severity ?? '-'}`,
      )
      .join('\n') || '(no notification received)';
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    received,
    find,
    waitFor: (match, timeoutMs) =>
      waitFor(
        `webhook notification ${match.alertname} ${match.status} ${JSON.stringify(match.labels ?? {})}`,
        () => find(match),
        {
          timeoutMs,
          intervalMs: 200,
          diagnose: () => `webhook received:\n${summary()}`,
        },
      ),
    summary,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
