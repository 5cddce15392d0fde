/**
 * Content assembly as a pure state machine (RabbitMQ's rabbit_command_assembler): a content-bearing
 * method is followed by exactly one content header and then body frames adding up to the header's body
 * size. Every illegal transition is an error value: 505 UNEXPECTED_FRAME for the wrong frame type, 501
 * FRAME_ERROR for a body overrunning its declared size, 406 for a body over the size limit.
 *
 * The assembler allocates nothing per command beyond the body and property copies a message keeps:
 * a completed command is read from its fields (`method`, `properties`, `body`) right after a call
 * returned true.
 */
import { AmqpError, frameError, preconditionFailed, unexpectedFrame } from '../errors.js';
import { readContentHeader } from '../protocol/content-header.js';
import { type Method, hasContent, methodName } from '../protocol/generated/methods.js';

const EXPECT_METHOD = 0;
const EXPECT_HEADER = 1;
const EXPECT_BODY = 2;

const EMPTY = Buffer.alloc(0);

export class CommandAssembler {
  /** The completed (or in-progress content) method. */
  method: Method | undefined = undefined;
  /** Raw content-header property bytes of the completed command (owned copy). */
  properties: Buffer = EMPTY;
  /** Body of the completed command (owned: safe to keep). */
  body: Buffer = EMPTY;

  private state = EXPECT_METHOD;
  private bodySize = 0;
  private received = 0;
  /** Body being filled across several frames; allocated once at its final size. */
  private assembling: Buffer | undefined = undefined;

  constructor(private readonly maxBodySize: number) {}

  get expectingMethod(): boolean {
    return this.state === EXPECT_METHOD;
  }

  /** A method frame. Returns true when it is a complete command (no content follows). */
  onMethod(method: Method): boolean {
    if (this.state !== EXPECT_METHOD) {
      const pending = this.method!;
      throw this.errorFor(pending, this.state === EXPECT_HEADER
        ? unexpectedFrame(`expected content header for class ${pending.id >>> 16}, got non content header frame instead`)
        : unexpectedFrame('expected content body, got non content body frame instead'));
    }
    this.method = method;
    this.properties = EMPTY;
    this.body = EMPTY;
    if (!hasContent(method.id)) return true;
    this.state = EXPECT_HEADER;
    return false;
  }

  /** A content header frame. Returns true when the command is complete (empty body). */
  onHeader(payload: Buffer): boolean {
    const pending = this.method;
    if (this.state !== EXPECT_HEADER || pending === undefined) {
      throw this.state === EXPECT_BODY
        ? this.errorFor(pending!, unexpectedFrame('expected content body, got non content body frame instead'))
        : unexpectedFrame('expected method frame, got non method frame instead');
    }
    const header = readContentHeader(payload);
    const classId = pending.id >>> 16;
    if (header.classId !== classId) {
      throw this.errorFor(pending, unexpectedFrame(`expected content header for class ${classId}, got one for class ${header.classId} instead`));
    }
    if (header.bodySize > this.maxBodySize) {
      this.state = EXPECT_METHOD;
      throw this.errorFor(pending, preconditionFailed(`message size ${header.bodySize} is larger than configured max size ${this.maxBodySize}`));
    }
    this.properties = Buffer.from(header.properties);
    this.bodySize = header.bodySize;
    this.received = 0;
    this.assembling = undefined;
    if (header.bodySize === 0) {
      this.state = EXPECT_METHOD;
      return true;
    }
    this.state = EXPECT_BODY;
    return false;
  }

  /** A content body frame. `owned`: the payload may be kept without copying. Returns true when complete. */
  onBody(payload: Buffer, owned: boolean): boolean {
    if (this.state !== EXPECT_BODY) {
      throw this.state === EXPECT_HEADER
        ? this.errorFor(this.method!, unexpectedFrame(`expected content header for class ${this.method!.id >>> 16}, got non content header frame instead`))
        : unexpectedFrame('expected method frame, got non method frame instead');
    }
    const total = this.received + payload.length;
    if (total > this.bodySize) {
      throw this.errorFor(this.method!, frameError(`content body of ${total} bytes exceeds the ${this.bodySize} bytes declared in its header`));
    }
    if (this.received === 0 && total === this.bodySize) {
      // The whole body in one frame: the common case, one copy at most.
      this.body = owned ? payload : Buffer.from(payload);
    } else {
      if (this.assembling === undefined) this.assembling = Buffer.allocUnsafe(this.bodySize);
      payload.copy(this.assembling, this.received);
      if (total === this.bodySize) {
        this.body = this.assembling;
        this.assembling = undefined;
      }
    }
    this.received = total;
    if (total < this.bodySize) return false;
    this.state = EXPECT_METHOD;
    return true;
  }

  /** Forget any half-assembled command (channel closed). */
  reset(): void {
    this.state = EXPECT_METHOD;
    this.method = undefined;
    this.properties = EMPTY;
    this.body = EMPTY;
    this.assembling = undefined;
  }

  private errorFor(method: Method, error: AmqpError): AmqpError {
    error.classId = method.id >>> 16;
    error.methodId = method.id & 0xffff;
    return error;
  }
}

/** For log lines: the name of the method a frame belongs to. */
export function describeMethod(method: Method | undefined): string {
  return method === undefined ? 'none' : methodName(method.id);
}
