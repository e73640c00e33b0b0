/** The version of @nova-common/agent (a test keeps it equal to package.json's). */
export const AGENT_VERSION = '1.0.0';
