"""The task engine: tasks, schedules, the DAG, the ready-queue scheduler and the runner."""
