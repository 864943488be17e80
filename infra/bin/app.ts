// The CDK app: one stack per province config in infra/provinces/ (`Consortium-<CODE>`), checked by
// CDK's CloudFormation validation and cdk-nag's AwsSolutions and HIPAA Security packs at synthesis.
import { App, CloudFormationValidatePlugin, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { loadProvinces } from '../provinces/load.ts';
import { ProvinceStack } from '../stack/province-stack.ts';

export function buildApp(app = new App(), provinces = loadProvinces()): App {
  // CloudFormation Validate findings fail synthesis instead of printing warnings.
  app.node.setContext('@aws-cdk/core:validateAgainstDefaultRules', true);
  for (const province of provinces) new ProvinceStack(app, `Consortium-${province.code}`, { province });
  // CDK's own CloudFormation validation (resource schemas and its rules) plus the cdk-nag packs.
  Validations.of(app).addPlugins(new CloudFormationValidatePlugin(), new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) buildApp().synth();
