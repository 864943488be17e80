// cdk-nag findings we accept, each with its reason. Anything not listed here fails synthesis.
import { Validations, type Stack } from 'aws-cdk-lib';

export function acknowledgeFindings(stack: Stack): void {
  void Validations;
  void stack;
}
