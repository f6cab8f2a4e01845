"""What the command line does at the terminal, beside the commands themselves: progress on
stderr (``progress``) and leaving the process quickly once everything is written
(``exiting``). Nothing here decides anything about a deposit."""
