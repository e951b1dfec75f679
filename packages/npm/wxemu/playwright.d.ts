import type { TestType, PlaywrightTestArgs, PlaywrightTestOptions, PlaywrightWorkerArgs, PlaywrightWorkerOptions } from "@playwright/test";
import type { StartOptions, Wxemu } from "./index.js";

export { expect } from "@playwright/test";

export interface WxemuWorkerOptions {
  /** Options of the worker's wxemu (start()'s options). */
  wxemuOptions: StartOptions;
}

export interface WxemuWorkerFixtures {
  /** This worker's wxemu, reset before each test. */
  wxemu: Wxemu;
}

export declare const test: TestType<
  PlaywrightTestArgs & PlaywrightTestOptions,
  PlaywrightWorkerArgs & PlaywrightWorkerOptions & WxemuWorkerOptions & WxemuWorkerFixtures
>;
