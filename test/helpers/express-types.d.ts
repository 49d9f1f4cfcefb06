/**
 * The slice of `express` (which ships no types; the MCP SDK depends on it) that
 * test/helpers/mcp-server.ts uses.
 */
declare module "express" {
  import type { IncomingMessage, ServerResponse } from "node:http";
  import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";

  export interface Request extends IncomingMessage {
    body?: unknown;
    path: string;
    query: Record<string, unknown>;
    /** Set by the SDK's requireBearerAuth. */
    auth?: AuthInfo;
  }

  export interface Response extends ServerResponse {
    locals: Record<string, unknown>;
    set(name: string, value: string): Response;
    status(code: number): Response;
    json(body: unknown): Response;
  }

  export type NextFunction = (error?: unknown) => void;
  export type RequestHandler = (req: Request, res: Response, next: NextFunction) => unknown;

  interface Application {
    (req: IncomingMessage, res: ServerResponse): void;
    use(...handlers: (RequestHandler | object)[]): void;
    get(path: string, ...handlers: RequestHandler[]): void;
    post(path: string, ...handlers: RequestHandler[]): void;
    delete(path: string, ...handlers: RequestHandler[]): void;
  }

  interface Express {
    (): Application;
    json(): RequestHandler;
  }

  const express: Express;
  export default express;
}
