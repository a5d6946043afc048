from gezhi.cli import main

main()
