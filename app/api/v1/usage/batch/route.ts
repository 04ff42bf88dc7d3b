import { usageBatchPost } from '@/lib/http/metering-routes.ts';

export const POST = usageBatchPost;
