// Errors the command line reports as usage mistakes (message and usage, exit code 2), not crashes.

export class UsageError extends Error {}
