// The baseline of the init-time ratio: a handler that imports nothing.
export const handler = async () => ({ statusCode: 200, body: 'hello' });
