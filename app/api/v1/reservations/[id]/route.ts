import { reservationGet } from '@/lib/http/metering-routes.ts';

export const GET = reservationGet;
