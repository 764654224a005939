"""Exit statuses of the ``skntk`` command and the error a user can fix."""

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class CompareError(Exception):
    """A problem the user can fix (bad argument, missing or unreadable data).

    ``main`` prints it as one line, without a traceback.
    """

    def __init__(self, message, exit_code=EXIT_ERROR):
        super().__init__(message)
        self.exit_code = exit_code
