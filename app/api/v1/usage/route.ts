import { usagePost } from '@/lib/http/metering-routes.ts';

export const POST = usagePost;
