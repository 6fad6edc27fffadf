# sys.exit(N) from the main thread, after a finally block.
import sys

def main():
    try:
        print("working")
        return 3
    finally:
        print("cleaning up")

sys.exit(main())
