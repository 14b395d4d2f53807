package io.affinity.io;

/**
 * A stage was asked to run before the stage whose output it reads, or an input path does not
 * exist. A usage error (exit code 2): the message says what is missing and what to run first.
 */
public final class MissingInputException extends RuntimeException {
  public MissingInputException(String message) {
    super(message);
  }
}
