declare module 'asl-validator' {
  interface ValidationError {
    'Error code': string;
    Message: string;
    path?: string;
  }
  interface ValidatorOptions {
    checkPaths?: boolean;
    checkArn?: boolean;
  }
  function validator(
    definition: unknown,
    options?: ValidatorOptions,
  ): { isValid: boolean; errors: ValidationError[] };
  export = validator;
}
