"""`grader serve`: the batch engine behind a web service (students upload, instructors watch).

The course folder holds the same SQLite store as `grader grade` (DIR/grader.db): the service's tables sit
beside the batch's, and a verdict is still keyed by (sha256, rubric digest, grader version), so an identical
file is answered from the store and a restarted server grades only what no one graded yet.
"""
