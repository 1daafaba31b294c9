// A signed API request sent exactly as given (any bytes in any value), by GET or POST, with the whole HTTP answer
// back: status, headers and body. For tests of what Ferry does with hostile input.
import { sign } from '../../api/signature';
import { stack } from './stack';

export interface RawAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined if it was not JSON. */
  json: Record<string, unknown> | undefined;
  text: string;
}

export function signedParams(params: Record<string, string>, secret = stack().secretKey): Record<string, string> {
  const all = { ...params, apiKey: stack().apiKey, response: 'json' };
  return { ...all, signature: sign(new Map(Object.entries(all)), secret) };
}

async function answer(res: Response): Promise<RawAnswer> {
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Sends the parameters as they are (already signed, or deliberately not). */
export async function sendRaw(params: Record<string, string>, method: 'GET' | 'POST' = 'GET'): Promise<RawAnswer> {
  const query = new URLSearchParams(params).toString();
  if (method === 'GET') return answer(await fetch(`${stack().apiUrl}?${query}`));
  return answer(
    await fetch(stack().apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: query,
    }),
  );
}

/** Signs the command and its parameters with the admin key and sends them. */
export const sendSigned = (command: string, params: Record<string, string>, method: 'GET' | 'POST' = 'GET') =>
  sendRaw(signedParams({ ...params, command }), method);
