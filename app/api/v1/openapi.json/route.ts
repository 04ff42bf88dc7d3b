import { openApiDocument } from '@/lib/http/openapi.ts';
import { json, route } from '@/lib/http/route.ts';

/** The OpenAPI 3.1 document of the public API; public, like the API's documentation. */
export const GET = route(async () => json(openApiDocument, 200, { 'cache-control': 'public, max-age=300' }));
