// The tests share the external servers, and one restarts Mosquitto: never two at once.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
