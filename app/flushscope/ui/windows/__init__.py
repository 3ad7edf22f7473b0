"""Windows and dialogs beside the main one."""
