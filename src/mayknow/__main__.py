from mayknow.entrypoints.cli import main

main()
