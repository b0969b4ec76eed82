/* Children die with their parent: every child goes into one job object
 * marked JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE. Only this process holds a
 * handle to it (it is never inherited), so when this process ends, by
 * exit, crash or TerminateProcess, the system closes the handle and ends
 * every process in the job. Children cannot break away (no BREAKAWAY_OK,
 * and never SILENT_BREAKAWAY_OK), so grandchildren stay in too; a child
 * that starts its own children puts them in a job of its own, nested in
 * ours. */
#include "win32.h"

static INIT_ONCE job_once = INIT_ONCE_STATIC_INIT;
static HANDLE job;
static DWORD job_error;

static BOOL CALLBACK make_job(INIT_ONCE *once, void *param, void **ctx) {
  (void)once;
  (void)param;
  (void)ctx;
  HANDLE j = CreateJobObjectW(NULL, NULL);
  if (!j) {
    job_error = GetLastError();
    return TRUE; /* remembered: every later start reports it */
  }
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION info;
  ZeroMemory(&info, sizeof info);
  info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!SetInformationJobObject(j, JobObjectExtendedLimitInformation, &info, sizeof info)) {
    job_error = GetLastError();
    CloseHandle(j);
    return TRUE;
  }
  job = j;
  return TRUE;
}

HANDLE mp__win_job(void) {
  InitOnceExecuteOnce(&job_once, make_job, NULL, NULL);
  if (!job) mp__win_error(MP_ESYS, job_error, "CreateJobObjectW (kill-on-close job for children)");
  return job;
}
