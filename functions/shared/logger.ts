// Structured JSON logs. Never log request bodies, national IDs, names or phone numbers: log ids.
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'consortium' });
