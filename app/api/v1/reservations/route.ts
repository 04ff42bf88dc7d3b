import { reservationsPost } from '@/lib/http/metering-routes.ts';

export const POST = reservationsPost;
