"""``python -m nplab`` runs the command-line interface."""

from nplab.cli import main

if __name__ == "__main__":
    main()
