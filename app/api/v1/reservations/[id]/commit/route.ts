import { reservationCommitPost } from '@/lib/http/metering-routes.ts';

export const POST = reservationCommitPost;
