// The CDK app: one stack per province config in infra/provinces/ (`Consortium-<CODE>`), checked by
// cdk-nag's AwsSolutions and HIPAA Security packs at synthesis.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { loadProvinces } from '../provinces/load.ts';
import { ProvinceStack } from '../stack/province-stack.ts';

export function buildApp(app = new App(), provinces = loadProvinces()): App {
  for (const province of provinces) new ProvinceStack(app, `Consortium-${province.code}`, { province });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) buildApp().synth();
