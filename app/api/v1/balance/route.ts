import { balanceGet } from '@/lib/http/metering-routes.ts';

export const GET = balanceGet;
