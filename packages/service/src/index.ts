export * from './security/index.js';
