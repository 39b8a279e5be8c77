import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface ChildResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs `node <args>` in the package directory with a hard time limit. */
export function runNode(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      args,
      { cwd: packageDir, env: { ...process.env, ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (_err, stdout, stderr) => resolve({ stdout, stderr, code: child.exitCode, signal: child.signalCode }),
    );
  });
}

/** The spans of one OTLP/HTTP JSON export request, flattened. */
export interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  scope: string;
  resource: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

/** A real OTLP/HTTP receiver on 127.0.0.1:0 that records every span it is sent (JSON encoding). */
export async function startOtlpReceiver(): Promise<{
  url: string;
  spans: OtlpSpan[];
  requests: number;
  /** `content-type` of every request received. */
  contentTypes: string[];
  /** HTTP status to answer with (400: a non-retryable failure for the exporter). @default 200 */
  status: number;
  close(): Promise<void>;
}> {
  const state = { spans: [] as OtlpSpan[], requests: 0, contentTypes: [] as string[], status: 200 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      state.requests++;
      state.contentTypes.push(String(req.headers['content-type']));
      if (state.status !== 200) {
        res.writeHead(state.status, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
        const payload = JSON.parse(body) as {
          resourceSpans: Array<{
            resource: { attributes: Array<{ key: string; value: Record<string, unknown> }> };
            scopeSpans: Array<{
              scope: { name: string };
              spans: Array<{
                name: string;
                kind: number;
                traceId: string;
                spanId: string;
                parentSpanId?: string;
                attributes?: Array<{ key: string; value: Record<string, unknown> }>;
              }>;
            }>;
          }>;
        };
        for (const rs of payload.resourceSpans) {
          const resource = Object.fromEntries(
            rs.resource.attributes.map((a) => [a.key, Object.values(a.value)[0]]),
          );
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              state.spans.push({
                name: s.name,
                kind: s.kind,
                traceId: s.traceId,
                spanId: s.spanId,
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                scope: ss.scope.name,
                resource,
                attributes: Object.fromEntries(
                  (s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]),
                ),
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get spans() {
      return state.spans;
    },
    get requests() {
      return state.requests;
    },
    get contentTypes() {
      return state.contentTypes;
    },
    get status() {
      return state.status;
    },
    set status(value: number) {
      state.status = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** True when `ancestorId` is on the parent chain of `span`. */
export function hasAncestor<S extends { spanId: string; parentSpanId?: string | undefined }>(
  spans: readonly S[],
  span: S,
  ancestorId: string,
): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  let current: S | undefined = span;
  for (let i = 0; current?.parentSpanId && i < 50; i++) {
    if (current.parentSpanId === ancestorId) return true;
    current = byId.get(current.parentSpanId);
  }
  return false;
}
