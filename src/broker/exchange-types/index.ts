/** The exchange types and the router interface they share; see router.ts. */
export {
  type ExchangeRouter,
  type ExchangeTypeName,
  type RouteCollector,
  createRouter,
  isExchangeType,
  validateBindingArguments,
} from './router.js';
export { DirectRouter } from './direct.js';
export { FanoutRouter } from './fanout.js';
export { TopicRouter, splitTopicKey } from './topic.js';
export { HeadersRouter, headersMatch } from './headers.js';
