// Package machine names the faults of the machine a role runs on: a full
// disk, a read-only or missing folder, too many open files, memory, a clock
// off the storage's. It turns the operating system's errors (and ffmpeg's
// words for them) into pipeline.MachineError, which the work waits out,
// and checks a folder's room before a large job.
//
//	if err := machine.CheckRoom(tmp, "the worker's temp folder (TMPDIR)", size); err != nil {
//		return err // waits, and says which folder and how much is free
//	}
//	err = machine.Classify(err, tmp, "the worker's temp folder (TMPDIR)")
package machine
