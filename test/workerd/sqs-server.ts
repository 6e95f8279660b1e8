import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createSqsServer } from "local-aws-sqs";
import type { TestProject } from "vitest/node";

/**
 * vitest globalSetup: local-aws-sqs on 127.0.0.1 for the workerd run (nothing can listen inside workerd).
 * The Worker sends to it as it would to AWS; the tests create and read queues over SQS's own HTTP API.
 */
export default async function setup(project: TestProject) {
  const server: Server = await createSqsServer({ port: 0, hostname: "127.0.0.1", region: "eu-west-1", emulateQueueCreationLifecycle: false });
  project.provide("sqsEndpoint", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

declare module "vitest" {
  export interface ProvidedContext {
    sqsEndpoint: string;
  }
}
