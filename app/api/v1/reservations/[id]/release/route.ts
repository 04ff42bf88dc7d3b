import { reservationReleasePost } from '@/lib/http/metering-routes.ts';

export const POST = reservationReleasePost;
