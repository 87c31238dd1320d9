"""What swiftpipe knows about ms-swift itself: argument names, checkpoint layouts."""
