# raise SystemExit with a message: printed to stderr, exit status 1.
print("about to leave")
raise SystemExit("leaving with a message")
