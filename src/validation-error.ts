import { IConstruct } from 'constructs';

/**
 * Thrown when construct props or a trust policy fail validation at synth time.
 *
 * aws-cdk-lib's own `ValidationError` is marked internal (and its constructor changed between
 * releases), so the library throws this error instead. It carries the path of the construct that
 * rejected the input, when there is one. Not part of the jsii API (jsii cannot model `Error`
 * subclasses); JavaScript callers can match on `name === 'ValidationError'`.
 */
export class SignedImagesValidationError extends Error {
  /** Path of the construct that rejected its input, if known. */
  public readonly constructPath?: string;

  public constructor(message: string, scope?: IConstruct) {
    super(scope ? `${message} (at ${scope.node.path || '<root>'})` : message);
    this.name = 'ValidationError';
    this.constructPath = scope?.node.path;
  }
}
