// Events of the prescriptions context.
export {};
