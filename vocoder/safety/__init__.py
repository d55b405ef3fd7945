"""What keeps a user's evidence and machine safe, for every command: outputs
written atomically and never over an input, data from files anyone can write
checked and capped, text from outside shown safely, signals that stop a job
cleanly, and the memory cap checked before any work."""
